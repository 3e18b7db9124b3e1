/**
 * An HTTP/1.1 connection kept open to one of several serving processes (`postern serve --processes N`):
 * the kernel picks the process when the connection opens, and every request on it reaches that one, so
 * a test can write through one process and read through another. Knows only what Postern answers:
 * Content-Length or chunked bodies.
 */

/** One answer read off the connection. */
export interface PinnedResponse {
  status: number;
  headers: Headers;
  text: string;
}

const CRLF2 = "\r\n\r\n";

/** A kept-alive connection to one serving process. */
export class PinnedConnection {
  #buffer = new Uint8Array(0);

  private constructor(private readonly conn: Deno.TcpConn, readonly process: number) {}

  /** Opens a connection and asks /healthz which process it reached. */
  static async open(url: string): Promise<PinnedConnection> {
    const { hostname, port } = new URL(url);
    const conn = await Deno.connect({ hostname, port: Number(port) });
    const probe = new PinnedConnection(conn, -1);
    const health = await probe.request("GET", "/healthz");
    return new PinnedConnection(conn, JSON.parse(health.text).process as number);
  }

  /** Opens connections until one reaches process `index` (the others are closed). */
  static async to(url: string, index: number, tries = 200): Promise<PinnedConnection> {
    for (let i = 0; i < tries; i++) {
      const connection = await PinnedConnection.open(url);
      if (connection.process === index) return connection;
      connection.close();
    }
    throw new Error(`No connection reached process ${index} in ${tries} tries`);
  }

  /** Sends one request and reads its answer. */
  async request(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<PinnedResponse> {
    const body = new TextEncoder().encode(options.body ?? "");
    const head = [`${method} ${path} HTTP/1.1`, "host: 127.0.0.1", `content-length: ${body.length}`];
    for (const [name, value] of Object.entries(options.headers ?? {})) head.push(`${name}: ${value}`);
    const bytes = new TextEncoder().encode(head.join("\r\n") + CRLF2);
    await this.#write(bytes);
    if (body.length) await this.#write(body);
    const headText = new TextDecoder().decode(await this.#readUntil(CRLF2));
    const [statusLine, ...lines] = headText.slice(0, -4).split("\r\n");
    const headers = new Headers();
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const status = Number(statusLine.split(" ")[1]);
    let payload: Uint8Array;
    if (headers.get("transfer-encoding")?.includes("chunked")) {
      const parts: Uint8Array[] = [];
      for (;;) {
        const size = parseInt(new TextDecoder().decode(await this.#readUntil("\r\n")), 16);
        const chunk = await this.#readExactly(size + 2);
        if (size === 0) break;
        parts.push(chunk.subarray(0, size));
      }
      payload = concat(parts);
    } else {
      payload = await this.#readExactly(Number(headers.get("content-length") ?? 0));
    }
    return { status, headers, text: new TextDecoder().decode(payload) };
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed already */ }
  }

  async #write(bytes: Uint8Array): Promise<void> {
    for (let written = 0; written < bytes.length;) written += await this.conn.write(bytes.subarray(written));
  }

  async #fill(): Promise<void> {
    const chunk = new Uint8Array(16 * 1024);
    const n = await this.conn.read(chunk);
    if (n === null) throw new Error("The server closed the connection");
    this.#buffer = concat([this.#buffer, chunk.subarray(0, n)]);
  }

  async #readUntil(marker: string): Promise<Uint8Array> {
    const needle = new TextEncoder().encode(marker);
    for (;;) {
      const at = indexOf(this.#buffer, needle);
      if (at >= 0) return this.#take(at + needle.length);
      await this.#fill();
    }
  }

  async #readExactly(n: number): Promise<Uint8Array> {
    while (this.#buffer.length < n) await this.#fill();
    return this.#take(n);
  }

  #take(n: number): Uint8Array {
    const taken = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.slice(n);
    return taken;
  }
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
