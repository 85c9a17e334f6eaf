// Broken configs reloaded while load runs: every such reload must answer an error, no request
// may fail, and the old config must keep serving (same sites, same answers).
import { sendCommand } from '../../src/admin/client.ts';
import { timedCommand } from '../admin.ts';
import { runLoad } from '../load.ts';
import { ourConfigToml, startOurInstance } from '../our-instance.ts';
import { siteHost, siteHosts } from '../sites.ts';
import { smallGetForHost } from '../workloads.ts';
import type { ChaosScenario } from '../results.ts';
import type { ChaosSettings } from './settings.ts';

/** Ways a ConfigMap edit goes wrong, each applied to the good config text. */
const BREAKAGES: readonly { name: string; apply: (good: string) => string }[] = [
  { name: 'TOML syntax error', apply: (good) => `${good}\n[[sites]\nhost = "broken"\n` },
  { name: 'upstream not a URL', apply: (good) => `${good}\n[[sites]]\nhost = "bad.bench.test"\nupstream = "not a url"\n` },
  { name: 'unknown key', apply: (good) => `${good}\n[[sites]]\nhost = "bad.bench.test"\nupstream = "http://127.0.0.1:1"\nupstrem_timeout = 3\n` },
  { name: 'empty file', apply: () => '' },
  { name: 'truncated mid-write', apply: (good) => good.slice(0, Math.floor(good.length / 2)) },
  { name: 'duplicate host', apply: (good) => `${good}\n[[sites]]\nhost = "${siteHost(0)}"\nupstream = "http://127.0.0.1:1"\n` },
  { name: 'binary garbage', apply: () => '\u0000\u00ff\u00fe[[[\u0007' },
];

export async function brokenReloadUnderLoad(s: ChaosSettings): Promise<ChaosScenario> {
  const hosts = siteHosts(10);
  // No default site: a config that lost a site would answer 404, so "old config serves" is visible.
  const instance = await startOurInstance(`${s.workDir}/broken-reload`, { workers: 2, upstreamPort: s.upstreamPort, hosts, accessLog: false, defaultSite: false });
  try {
    const good = ourConfigToml(instance.config);
    const statusBefore = (await sendCommand(instance.socket, 'status')).trim();
    const load = runLoad({ port: instance.system.port, workload: smallGetForHost(siteHost(3)), connections: s.connections, durationSecs: s.loadSecs + Math.ceil(s.brokenReloads / 10) });
    const wrongReplies: string[] = [];
    const accepted = new Set<string>();
    let errorReplies = 0;
    for (let i = 0; i < s.brokenReloads; i++) {
      const breakage = BREAKAGES[i % BREAKAGES.length]!;
      instance.writeConfig(breakage.apply(good));
      const reply = await timedCommand(instance.socket, 'reload');
      if (reply.reply.startsWith('{"status":"error"')) {
        errorReplies++;
        continue;
      }
      wrongReplies.push(`${breakage.name}: ${reply.reply.trim().slice(0, 160)}`);
      accepted.add(breakage.name);
      // Put the good config straight back, so the next breakages are tried against it and the
      // failed-request count shows only this one's window.
      instance.writeConfig(good);
      await timedCommand(instance.socket, 'reload');
    }
    const statusDuring = (await sendCommand(instance.socket, 'status')).trim();
    const siteCountKept = JSON.parse(statusDuring).sites === JSON.parse(statusBefore).sites;
    const result = await load;
    instance.writeConfig(good);
    const restored = await timedCommand(instance.socket, 'reload');
    const lost = result.socketErrors + result.non2xx;
    const passed = lost === 0 && wrongReplies.length === 0 && siteCountKept && restored.ok;
    return {
      name: 'broken config reloaded under load',
      passed,
      summary: `${s.brokenReloads} broken reloads (${BREAKAGES.map((b) => b.name).join(', ')}): ${errorReplies} answered an error, ${wrongReplies.length} did not${accepted.size > 0 ? ` (accepted: ${[...accepted].join(', ')}; the good config was reloaded right after each)` : ''}; ${lost} of ${result.requests.toLocaleString('en')} requests failed; sites before/after: ${statusBefore} / ${statusDuring}; good config reloads ${restored.ok ? 'ok' : `with: ${restored.reply.trim()}`}`,
      details: { brokenReloads: s.brokenReloads, errorReplies, wrongReplies: wrongReplies.slice(0, 10), statusBefore, statusDuring, load: result, restoredReply: restored.reply.trim() },
    };
  } finally {
    await instance.stop();
  }
}
