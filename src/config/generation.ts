// A config generation: the dynamic part of one successfully loaded config file. The master
// numbers them; workers compile each into a routing table and swap it in atomically.
import type { Config, SiteConfig } from './schema.ts';

export interface Generation {
  /** Increases by one with every reload that is applied. */
  id: number;
  /** SHA-256 of the config file's bytes this generation came from. */
  sha256: string;
  sites: SiteConfig[];
}

export function generationOf(id: number, sha256: string, config: Config): Generation {
  return { id, sha256, sites: config.sites };
}
