/**
 * A minimal HTTP/1.1 keep-alive client over a raw TCP connection, for the load generator and the
 * latency probe. One request at a time per connection (like wrk and browsers), or with `pipeline`
 * several written at once and answered in order (RFC 9112 §9.3.2; the load generator's `--pipeline`),
 * and responses carry Content-Length or, for a large string body, chunked framing (Deno.serve streams
 * those).
 *
 * Why not fetch: measured here against the bare Deno.serve baseline on two cores, fetch drove about
 * 30,000 req/s with its process at 100% of a core, this client about 110,000: with fetch the generator,
 * not the server, would set the pace (`deno task bench --client fetch` shows it).
 */

const CRLF2 = [13, 10, 13, 10];
const CRLF = [13, 10];
const latin1 = new TextDecoder("latin1");
const CONTENT_LENGTH = [...new TextEncoder().encode("\r\ncontent-length: ")];

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
  /** Where the unread bytes begin (only #skipResponse leaves it above 0; everything else compacts). */
  #start = 0;

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

  /**
   * Writes `requests` (several complete HTTP/1.1 requests back to back) in one go and reads their
   * `count` responses, calling `answered` with each status as it arrives; the bodies are skipped, not
   * copied. The server answers a connection's requests one after another, in order (Deno.serve does:
   * measured), so pipelining saves the client's writes and wake-ups, not the server's work per request.
   */
  async pipeline(requests: Uint8Array, count: number, answered: (status: number) => void): Promise<void> {
    let written = 0;
    while (written < requests.length) written += await this.#conn.write(requests.subarray(written));
    for (let i = 0; i < count; i++) answered(await this.#skipResponse());
    this.#compact();
  }

  /** Closes the connection (idempotent). */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  /**
   * The next response's status, its body dropped: Deno.serve writes a lower-case `content-length: `,
   * found without decoding the head; any other framing goes through the general reader.
   */
  async #skipResponse(): Promise<number> {
    let headerEnd = -1;
    let scanned = this.#start;
    for (;;) {
      headerEnd = indexOf(this.#buf, CRLF2, Math.max(this.#start, scanned - 3), this.#filled);
      if (headerEnd >= 0) break;
      this.#compact();
      scanned = this.#filled;
      await this.#fill();
    }
    const at = indexOf(this.#buf, CONTENT_LENGTH, this.#start, headerEnd);
    if (at < 0) {
      this.#compact();
      return (await this.#readResponse()).status;
    }
    let length = 0;
    for (let i = at + CONTENT_LENGTH.length; i < headerEnd; i++) {
      const digit = this.#buf[i] - 48;
      if (digit < 0 || digit > 9) break;
      length = length * 10 + digit;
    }
    const b = this.#buf;
    const s = this.#start;
    const status = (b[s + 9] - 48) * 100 + (b[s + 10] - 48) * 10 + (b[s + 11] - 48);
    const end = headerEnd + 4 + length;
    if (end <= this.#filled) {
      // Responses that arrived together are passed over where they lie: no copy per response.
      this.#start = end === this.#filled ? (this.#filled = 0) : end;
      return status;
    }
    this.#compact();
    const total = end - s;
    while (this.#filled < total) await this.#fill(total);
    this.#buf.copyWithin(0, total, this.#filled);
    this.#filled -= total;
    return status;
  }

  /** Moves the unread bytes from `#start` to the buffer's start. */
  #compact(): void {
    if (this.#start === 0) return;
    this.#buf.copyWithin(0, this.#start, this.#filled);
    this.#filled -= this.#start;
    this.#start = 0;
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
  return withBody(httpHead(method, url, headers), body);
}

/** A request's line and headers, each ending in CRLF, without the blank line that ends the head. */
export function httpHead(method: string, url: URL, headers: Record<string, string> = {}): Uint8Array {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return new TextEncoder().encode(lines.join("\r\n") + "\r\n");
}

/** A whole request: `head` (from {@link httpHead}), then the body, if any, with its Content-Length. */
export function withBody(head: Uint8Array, body?: Uint8Array): Uint8Array {
  const end = new TextEncoder().encode(body ? `content-length: ${body.length}\r\n\r\n` : "\r\n");
  const request = new Uint8Array(head.length + end.length + (body?.length ?? 0));
  request.set(head);
  request.set(end, head.length);
  if (body) request.set(body, head.length + end.length);
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
