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

/** Reads the files now and again whenever they change. */
export class ReloadingTlsFiles {
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
