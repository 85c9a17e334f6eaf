// The certificates of one generation, ready for handshakes: a secure context per certificate,
// built once when the generation is applied, and the SNI lookup that picks one. A reload makes
// a new store; a handshake in progress keeps the context it was given.
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { MIN_TLS_VERSION, type LoadedCertificate } from '../config/certificates.ts';

export class CertificateStore {
  readonly #exact = new Map<string, SecureContext>();
  /** Keyed by the wildcard's parent domain: "*.example.com" → "example.com". */
  readonly #wildcards = new Map<string, SecureContext>();
  readonly #fallback: SecureContext | undefined;
  /** Options of the default certificate: what a handshake without SNI (or an unknown name) gets. */
  readonly defaultOptions: SecureContextOptions | undefined = undefined;

  constructor(certificates: readonly LoadedCertificate[]) {
    const chosen = certificates.find((c) => c.isDefault) ?? certificates[0];
    let fallback: SecureContext | undefined;
    for (const certificate of certificates) {
      const options = contextOptions(certificate);
      const context = createSecureContext(options);
      for (const name of certificate.names) {
        // First certificate wins a name two of them carry, in the order the config lists them.
        const wildcard = name.startsWith('*.');
        const table = wildcard ? this.#wildcards : this.#exact;
        const key = wildcard ? name.slice(2) : name;
        if (!table.has(key)) table.set(key, context);
      }
      if (certificate === chosen) {
        fallback = context;
        this.defaultOptions = options;
      }
    }
    this.#fallback = fallback;
  }

  /** The context for a ClientHello's server name: exact name, then a one-label wildcard, then the default. */
  contextFor(servername: string | undefined): SecureContext | undefined {
    if (servername) {
      const host = servername.toLowerCase();
      const exact = this.#exact.get(host);
      if (exact !== undefined) return exact;
      const dot = host.indexOf('.');
      if (dot > 0) {
        const wildcard = this.#wildcards.get(host.slice(dot + 1));
        if (wildcard !== undefined) return wildcard;
      }
    }
    return this.#fallback;
  }
}

function contextOptions(certificate: LoadedCertificate): SecureContextOptions {
  return { cert: certificate.cert, key: certificate.key, minVersion: MIN_TLS_VERSION };
}
