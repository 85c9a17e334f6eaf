// What every TLS listener of a worker shares: the current generation's certificates. A
// listener asks for a context per ClientHello (SNICallback) and falls back to the default
// certificate without SNI, so a reload swaps certificates for new handshakes while open
// connections keep the session they negotiated.
import type { Server as TlsServer, TlsOptions } from 'node:tls';
import { ALPN_PROTOCOLS, MIN_TLS_VERSION, type LoadedCertificate } from '../config/certificates.ts';
import { CertificateStore } from './certificates.ts';

const samePems = (a: readonly LoadedCertificate[], b: readonly LoadedCertificate[]) =>
  a.length === b.length && a.every((c, i) => c.cert === b[i]!.cert && c.key === b[i]!.key && c.isDefault === b[i]!.isDefault);

export class TlsTerminator {
  #certificates: readonly LoadedCertificate[] = [];
  #store = new CertificateStore([]);
  readonly #servers: TlsServer[] = [];

  /** Options for a tls.Server (or https.Server) that always serves the current certificates. */
  serverOptions(): TlsOptions {
    return {
      ...this.#store.defaultOptions,
      minVersion: MIN_TLS_VERSION,
      ALPNProtocols: ALPN_PROTOCOLS,
      SNICallback: (servername, done) => done(null, this.#store.contextFor(servername)),
    };
  }

  /** Keeps a listener's default certificate in step with later generations. */
  track(server: TlsServer): void {
    this.#servers.push(server);
  }

  /** Makes these certificates the ones new handshakes get; unchanged PEMs keep their contexts. */
  use(certificates: readonly LoadedCertificate[]): void {
    if (samePems(certificates, this.#certificates)) return;
    const store = new CertificateStore(certificates);
    this.#store = store;
    this.#certificates = certificates;
    if (store.defaultOptions === undefined) return;
    for (const server of this.#servers) server.setSecureContext({ ...store.defaultOptions });
  }
}
