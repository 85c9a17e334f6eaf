// Rules across `[[upstreams]]` and `[[sites.routes]]` entries, run on a file whose every entry
// already has the right shape: names are unique, and every group a site or route names exists.
import type { KeyPath } from './locate.ts';
import { isGroupReference } from './upstream-groups.ts';
import type { Config } from './schema.ts';

interface RouteProblem {
  path: KeyPath;
  message: string;
}

export function routeCrossChecks(config: Config): RouteProblem[] {
  const problems: RouteProblem[] = [];
  const groups = new Map<string, number>();
  config.upstreams.forEach((group, i) => {
    const owner = groups.get(group.name);
    if (owner !== undefined) problems.push({ path: ['upstreams', i, 'name'], message: `group "${group.name}" is already defined by upstreams[${owner}]` });
    else groups.set(group.name, i);
  });

  const isUnknownGroup = (upstream: readonly string[] | undefined): upstream is readonly string[] => upstream !== undefined && isGroupReference(upstream) && !groups.has(upstream[0]!);
  const unknownGroup = (path: KeyPath, name: string) => {
    const known = [...groups.keys()];
    const hint = known.length === 0 ? 'no [[upstreams]] groups are defined' : `defined groups: ${known.map((g) => `"${g}"`).join(', ')}`;
    problems.push({ path: [...path, 0], message: `"${name}" is not a URL or the name of an [[upstreams]] group (${hint})` });
  };

  // A reload checks every route of every site: key paths are made only for a problem.
  config.sites.forEach((site, i) => {
    if (isUnknownGroup(site.upstream)) unknownGroup(['sites', i, 'upstream'], site.upstream[0]!);
    const names = new Map<string, number>();
    site.routes.forEach((route, r) => {
      if (isUnknownGroup(route.upstream)) unknownGroup(['sites', i, 'routes', r, 'upstream'], route.upstream[0]!);
      if (route.name === undefined) return;
      const owner = names.get(route.name);
      if (owner !== undefined) problems.push({ path: ['sites', i, 'routes', r, 'name'], message: `route "${route.name}" is already the name of routes[${owner}] of this site` });
      else names.set(route.name, r);
    });
  });
  return problems;
}
