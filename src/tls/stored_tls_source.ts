/**
 * The certificate of the store as a listener's TLS source: the same `current()` shape as the SMTP
 * listener's ReloadingTlsFiles (src/smtp/tls_files.ts), read from the database on each call, so a
 * certificate renewed by any process on the database is used by this one's next handshake.
 */
import type { CertificateRepository } from "../store/mod.ts";
import type { Sealer } from "../oauth/mod.ts";

/** PEM certificate chain and key. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** Reads a stored certificate; until one exists, serves `fallback` (a self-signed certificate). */
export class StoredTlsSource {
  #updatedAt = -1;
  #files: TlsFiles | undefined;

  constructor(
    private readonly repository: CertificateRepository,
    private readonly options: { name: string; sealer: Sealer; fallback: () => Promise<TlsFiles> },
  ) {}

  /** The stored certificate and key; `changed` when they differ from the last call's. */
  async current(): Promise<{ files: TlsFiles; changed: boolean }> {
    const row = await this.repository.get(this.options.name);
    const updatedAt = row && row.certPem ? row.updatedAt : 0;
    if (this.#files && updatedAt === this.#updatedAt) return { files: this.#files, changed: false };
    this.#files = row && row.certPem
      ? { cert: row.certPem, key: this.options.sealer.open(row.keySealed) }
      : await this.options.fallback();
    this.#updatedAt = updatedAt;
    return { files: this.#files, changed: true };
  }
}
