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
}

export function generationOf(id: number, loaded: LoadedConfig): Generation {
  return { id, sha256: loaded.sha256, upstreams: loaded.config.upstreams, sites: loaded.config.sites, certificates: loaded.certificates, caFiles: loaded.caFiles };
}
