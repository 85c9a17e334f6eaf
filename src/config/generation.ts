// A config generation: the dynamic part of one successfully loaded config file. The master
// numbers them; workers compile each into a routing table and swap it in atomically.
import type { LoadedCertificate } from './certificates.ts';
import type { LoadedConfig } from './load.ts';
import type { SiteConfig } from './schema.ts';
import type { UpstreamGroupConfig } from './routes-schema.ts';

export interface Generation {
  /** Increases by one with every reload that is applied. */
  id: number;
  /** Content hash of the config file and the files it references, this generation came from. */
  sha256: string;
  upstreams: UpstreamGroupConfig[];
  sites: SiteConfig[];
  /** Read and checked by the master; workers build their TLS contexts from these PEMs. */
  certificates: LoadedCertificate[];
  /** PEM text of each upstream `tls_ca_file`, keyed by the path as written. */
  caFiles: Record<string, string>;
  /**
   * Content key of each site's text, in `sites` order (site-cache.ts): equal keys, equal sites.
   * Absent when the file was parsed whole; then nothing of the previous generation is reused.
   */
  siteKeys?: readonly string[];
}

/**
 * A generation as it is sent to workers for a reload: a site whose key the previous generation
 * had is sent as null, and the worker takes it from the generation it serves (compileGeneration
 * refuses one it does not hold). A one-site edit sends one site, not all of them.
 */
export interface WireGeneration extends Omit<Generation, 'sites'> {
  sites: (SiteConfig | null)[];
}

export function generationOf(id: number, loaded: LoadedConfig): Generation {
  const generation: Generation = { id, sha256: loaded.sha256, upstreams: loaded.config.upstreams, sites: loaded.config.sites, certificates: loaded.certificates, caFiles: loaded.caFiles };
  if (loaded.siteKeys !== undefined) generation.siteKeys = loaded.siteKeys;
  return generation;
}

/** `generation` for workers that serve `previous`: the sites `previous` had too go as null. */
export function wireGeneration(generation: Generation, previous: Generation): WireGeneration {
  const keys = generation.siteKeys;
  const held = new Set(previous.siteKeys);
  if (keys === undefined || held.size === 0) return generation;
  return { ...generation, sites: generation.sites.map((site, i) => (held.has(keys[i]!) ? null : site)) };
}
