// One running instance of our proxy for the reload, probe and chaos measurements, with the
// operations those need: rewrite its config atomically (as kubelet does) and reload it.
import { mkdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { timedCommand, type TimedReply } from './admin.ts';
import { freePort } from './ports.ts';
import { ourConfigToml, startOurs, type OurConfig } from './peers/reverse-proxy.ts';
import type { RunningSystem } from './peers/types.ts';

/**
 * The proxy reads a config file only once it has been unmodified for 25 ms (CONFIG_QUIET_MS in
 * src/config/load.ts: a file written in place may be half-written). In a pod the reloader's
 * debounce keeps that wait off the path, so the harness dates each complete file one second
 * back: the number measured is the reload, not the deliberate wait.
 */
const SETTLED_AGE_MS = 1_000;

export interface OurInstance {
  system: RunningSystem;
  socket: string;
  config: OurConfig;
  /** Replaces the config file in one rename (as kubelet does), so no reload reads it half-written. */
  writeConfig(text: string): void;
  /** Writes the next variant of the config (a real dynamic change) and reloads. */
  reloadChanged(): Promise<TimedReply>;
  stop(): Promise<void>;
}

/** `cli`: the compiled build's cli.js instead of the sources. */
export async function startOurInstance(workDir: string, options: Omit<OurConfig, 'port' | 'adminSocket'>, cli?: string): Promise<OurInstance> {
  mkdirSync(workDir, { recursive: true });
  const port = await freePort();
  const socket = join(workDir, 'admin.sock');
  const configPath = join(workDir, 'config.toml');
  const config: OurConfig = { ...options, port, adminSocket: socket, variant: 0 };
  const writeConfig = (text: string) => {
    writeFileSync(`${configPath}.tmp`, text);
    const settled = new Date(Date.now() - SETTLED_AGE_MS);
    utimesSync(`${configPath}.tmp`, settled, settled);
    renameSync(`${configPath}.tmp`, configPath);
  };
  writeConfig(ourConfigToml(config));
  const system = await startOurs(configPath, workDir, port, socket, cli);
  return {
    system,
    socket,
    config,
    writeConfig,
    reloadChanged() {
      config.variant = (config.variant ?? 0) + 1;
      writeConfig(ourConfigToml(config));
      return timedCommand(socket, 'reload');
    },
    stop: () => system.stop(),
  };
}
