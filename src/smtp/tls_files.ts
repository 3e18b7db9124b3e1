/**
 * The certificate and key files of a listener, re-read when either file's modification time changes
 * (a renewal by certbot or an ACME client replaces them in place): `current()` is called for each new
 * connection, so the next STARTTLS after a renewal uses the new certificate without a restart.
 */

/** PEM certificate chain and key as last read. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/**
 * Where a listener gets its certificate for each new connection or handshake: files
 * ({@link ReloadingTlsFiles}) or the certificate store (src/tls/stored_tls_source.ts).
 */
export interface TlsSource {
  /** The certificate and key now; `changed` says whether they differ from the last call's. */
  current(): Promise<{ files: TlsFiles; changed: boolean }>;
}

/** Reads the files now and again whenever they change. */
export class ReloadingTlsFiles implements TlsSource {
  #stamp = "";
  #files: TlsFiles | undefined;

  constructor(private readonly certFile: string, private readonly keyFile: string) {}

  /** The files' content, re-read if changed; `changed` says whether it was. Throws if unreadable. */
  async current(): Promise<{ files: TlsFiles; changed: boolean }> {
    const [cert, key] = await Promise.all([Deno.stat(this.certFile), Deno.stat(this.keyFile)]);
    const stamp = `${cert.mtime?.getTime()}:${cert.size}:${key.mtime?.getTime()}:${key.size}`;
    if (this.#files && stamp === this.#stamp) return { files: this.#files, changed: false };
    this.#files = {
      cert: await Deno.readTextFile(this.certFile),
      key: await Deno.readTextFile(this.keyFile),
    };
    this.#stamp = stamp;
    return { files: this.#files, changed: true };
  }
}
