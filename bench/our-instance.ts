// One running instance of our proxy for the reload, probe and chaos measurements, with the
// operations those need: rewrite its config atomically (as kubelet does) and reload it.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { timedCommand, type TimedReply } from './admin.ts';
import { freePort } from './ports.ts';
import { ourConfigToml, startOurs, type OurConfig } from './peers/reverse-proxy.ts';
import type { RunningSystem } from './peers/types.ts';

export interface OurInstance {
  system: RunningSystem;
  socket: string;
  config: OurConfig;
  /** Replaces the config file in one rename, so no reload ever reads it half-written. */
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
