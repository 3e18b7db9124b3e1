/**
 * A minimal HTTP/1.1 keep-alive client over a raw TCP connection, for the load generator and the
 * latency probe. One request at a time per connection (no pipelining, like wrk and browsers), and
 * responses carry Content-Length or, for a large string body, chunked framing (Deno.serve streams those).
 *
 * Why not fetch: measured here against the bare Deno.serve baseline on two cores, fetch drove about
 * 30,000 req/s with its process at 100% of a core, this client about 110,000: with fetch the generator,
 * not the server, would set the pace (`deno task bench --client fetch` shows it).
 */

const CRLF2 = [13, 10, 13, 10];
const CRLF = [13, 10];
const latin1 = new TextDecoder("latin1");

/** One answered request. */
export interface Answer {
  status: number;
  /** Response body bytes. */
  body: Uint8Array;
}

/** A keep-alive connection that sends one fixed request and reads whole responses. */
export class RawConnection {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(64 * 1024);
  #filled = 0;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Opens a TCP connection to `url`'s host and port. */
  static async open(url: URL): Promise<RawConnection> {
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port || 80) });
    conn.setNoDelay(true);
    return new RawConnection(conn);
  }

  /** Sends `request` (complete HTTP/1.1 bytes) and reads its response. */
  async send(request: Uint8Array): Promise<Answer> {
    let written = 0;
    while (written < request.length) written += await this.#conn.write(request.subarray(written));
    return await this.#readResponse();
  }

  /** Closes the connection (idempotent). */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  async #readResponse(): Promise<Answer> {
    let headerEnd = -1;
    let scanned = 0;
    for (;;) {
      headerEnd = indexOf(this.#buf, CRLF2, Math.max(0, scanned - 3), this.#filled);
      if (headerEnd >= 0) break;
      scanned = this.#filled;
      await this.#fill();
    }
    const head = latin1.decode(this.#buf.subarray(0, headerEnd));
    const status = Number(head.slice(9, 12));
    const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!match && /\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      return { status, body: await this.#chunked(headerEnd + 4) };
    }
    if (!match) throw new Error(`Response without Content-Length: ${head.split("\r\n")[0]}`);
    const total = headerEnd + 4 + Number(match[1]);
    while (this.#filled < total) await this.#fill(total);
    const body = this.#buf.slice(headerEnd + 4, total);
    this.#buf.copyWithin(0, total, this.#filled);
    this.#filled -= total;
    return { status, body };
  }

  /** A chunked body (RFC 9112 §7.1, no trailers) starting at `start`; the buffer then holds what follows. */
  async #chunked(start: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let at = start;
    for (;;) {
      let lineEnd = indexOf(this.#buf, CRLF, at, this.#filled);
      while (lineEnd < 0) {
        await this.#fill();
        lineEnd = indexOf(this.#buf, CRLF, at, this.#filled);
      }
      const size = parseInt(latin1.decode(this.#buf.subarray(at, lineEnd)), 16);
      if (!Number.isFinite(size)) throw new Error("Malformed chunk size");
      const end = lineEnd + 2 + size + 2;
      while (this.#filled < end) await this.#fill(end);
      if (size === 0) {
        this.#buf.copyWithin(0, end, this.#filled);
        this.#filled -= end;
        break;
      }
      parts.push(this.#buf.slice(lineEnd + 2, lineEnd + 2 + size));
      at = end;
    }
    const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      body.set(part, offset);
      offset += part.length;
    }
    return body;
  }

  async #fill(need = 0): Promise<void> {
    if (need > this.#buf.length || this.#filled === this.#buf.length) {
      const bigger = new Uint8Array(Math.max(need, this.#buf.length * 2));
      bigger.set(this.#buf.subarray(0, this.#filled));
      this.#buf = bigger;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#filled));
    if (n === null) throw new Error("Connection closed by the server");
    this.#filled += n;
  }
}

/** The bytes of a GET request for `url` with extra headers. */
export function getRequest(url: URL, headers: Record<string, string> = {}): Uint8Array {
  return httpRequest("GET", url, headers);
}

/**
 * The bytes of a request for `url` with extra headers and, if given, a fixed body sent with its
 * Content-Length (a body-less request carries no Content-Length, as browsers send a GET).
 */
export function httpRequest(
  method: string,
  url: URL,
  headers: Record<string, string> = {},
  body?: Uint8Array,
): Uint8Array {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body) lines.push(`content-length: ${body.length}`);
  const head = new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n");
  if (!body) return head;
  const request = new Uint8Array(head.length + body.length);
  request.set(head);
  request.set(body, head.length);
  return request;
}

/** The body of a GET on a new connection; anything but 200 is an error. */
export function httpGet(url: URL, headers: Record<string, string>): Promise<Uint8Array> {
  return fetchOnce("GET", url, headers);
}

/** The body of a POST of `body` on a new connection; anything but 200 is an error. */
export function httpPost(url: URL, headers: Record<string, string>, body: Uint8Array): Promise<Uint8Array> {
  return fetchOnce("POST", url, headers, body);
}

async function fetchOnce(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body?: Uint8Array,
): Promise<Uint8Array> {
  const connection = await RawConnection.open(url);
  try {
    const answer = await connection.send(httpRequest(method, url, headers, body));
    if (answer.status !== 200) {
      throw new Error(`${method} ${url} answered ${answer.status}: ${new TextDecoder().decode(answer.body)}`);
    }
    return answer.body;
  } finally {
    connection.close();
  }
}

/** Whether two byte arrays are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function indexOf(haystack: Uint8Array, needle: number[], from: number, to: number): number {
  const last = to - needle.length;
  outer: for (let i = from; i <= last; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
