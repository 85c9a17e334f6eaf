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

  const checkReference = (path: KeyPath, upstream: readonly string[] | undefined) => {
    if (upstream === undefined || !isGroupReference(upstream)) return;
    const name = upstream[0]!;
    if (groups.has(name)) return;
    const known = [...groups.keys()];
    const hint = known.length === 0 ? 'no [[upstreams]] groups are defined' : `defined groups: ${known.map((g) => `"${g}"`).join(', ')}`;
    problems.push({ path: [...path, 0], message: `"${name}" is not a URL or the name of an [[upstreams]] group (${hint})` });
  };

  config.sites.forEach((site, i) => {
    checkReference(['sites', i, 'upstream'], site.upstream);
    const names = new Map<string, number>();
    site.routes.forEach((route, r) => {
      checkReference(['sites', i, 'routes', r, 'upstream'], route.upstream);
      if (route.name === undefined) return;
      const owner = names.get(route.name);
      if (owner !== undefined) problems.push({ path: ['sites', i, 'routes', r, 'name'], message: `route "${route.name}" is already the name of routes[${owner}] of this site` });
      else names.set(route.name, r);
    });
  });
  return problems;
}
