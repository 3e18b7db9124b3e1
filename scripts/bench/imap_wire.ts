/**
 * The IMAP benchmark's client: one TLS connection speaking raw IMAP, the same for Postern and
 * Dovecot. It sends a command (or several, pipelined) and reads every response up to the tagged
 * status, skipping literals by their announced size without decoding them, and counts the untagged
 * responses; what a figure needs to check (EXISTS, APPENDUID, the number of FETCH responses) it
 * reads from the few lines it asks to keep. A client library that parses every FETCH into objects
 * would set the pace of `FETCH 1:*` on 100,000 messages, for both servers alike.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("latin1");
const LF = 10;

/** The tagged status of a command and what came before it. */
export interface Answer {
  status: "OK" | "NO" | "BAD";
  /** The tagged line, without the tag and CRLF. */
  text: string;
  /** Untagged responses (`* …`), literals included in their response. */
  untagged: number;
  /** Bytes of the whole answer. */
  bytes: number;
  /** Untagged lines (first line of each response, up to 200 characters) when `keep` was asked. */
  lines: string[];
}

/** One IMAP connection over implicit TLS (or plain text, for a transport comparison). */
export class ImapWire {
  #buffer = new Uint8Array(1 << 16);
  #start = 0;
  #end = 0;
  #tag = 0;

  private constructor(private readonly conn: Deno.Conn) {}

  /** Connects to 127.0.0.1:`port` trusting `caCert` and reads the greeting. */
  static async open(port: number, caCert: string): Promise<ImapWire> {
    const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caCert] });
    return await ImapWire.#greeted(conn);
  }

  /** Connects to 127.0.0.1:`port` in plain text (no STARTTLS) and reads the greeting. */
  static async openPlain(port: number): Promise<ImapWire> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return await ImapWire.#greeted(conn);
  }

  static async #greeted(conn: Deno.Conn): Promise<ImapWire> {
    const wire = new ImapWire(conn);
    const greeting = await wire.#response();
    if (!greeting.startsWith("* OK")) throw new Error(`IMAP greeting: ${greeting}`);
    return wire;
  }

  /** Opens a connection, logs in and (unless `select` is false) selects INBOX. */
  static async session(
    port: number,
    options: { caCert: string; user: string; password: string; select?: boolean },
  ): Promise<{ wire: ImapWire; select?: Answer }> {
    const wire = await ImapWire.open(port, options.caCert);
    const login = await wire.command(`LOGIN ${quote(options.user)} ${quote(options.password)}`);
    if (login.status !== "OK") throw new Error(`LOGIN answered ${login.status} ${login.text}`);
    if (options.select === false) return { wire };
    return { wire, select: await wire.command("SELECT INBOX", { keep: true }) };
  }

  /** Sends `text` (plus literal bytes after it, sent as a non-synchronizing literal) and reads the answer. */
  async command(text: string, options: { keep?: boolean; literal?: Uint8Array } = {}): Promise<Answer> {
    const tag = `b${++this.#tag}`;
    if (options.literal) {
      const head = encoder.encode(`${tag} ${text} {${options.literal.length}+}\r\n`);
      await this.#write(concat([head, options.literal, encoder.encode("\r\n")]));
    } else {
      await this.#write(encoder.encode(`${tag} ${text}\r\n`));
    }
    return await this.#answer(tag, options.keep === true);
  }

  /** Enters IDLE and waits for the server's continuation; the connection then stays idle. */
  async idle(): Promise<void> {
    const tag = `b${++this.#tag}`;
    await this.#write(encoder.encode(`${tag} IDLE\r\n`));
    for (;;) {
      const line = await this.#response();
      if (line.startsWith("+")) return;
      if (line.startsWith(`${tag} `)) throw new Error(`IDLE answered ${line}`);
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }

  async #write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) at += await this.conn.write(bytes.subarray(at));
  }

  async #answer(tag: string, keep: boolean): Promise<Answer> {
    const tagged = encoder.encode(`${tag} `);
    let untagged = 0;
    let bytes = 0;
    const lines: string[] = [];
    for (;;) {
      const [start, end] = await this.#next();
      bytes += end - start;
      const buffer = this.#buffer;
      this.#start = end;
      if (startsWith(buffer, start, tagged)) {
        const text = decoder.decode(buffer.subarray(start + tagged.length, end)).trimEnd();
        const status = /^(OK|NO|BAD)\b/.exec(text)?.[1] as Answer["status"] | undefined;
        if (!status) throw new Error(`Unexpected tagged line: ${text}`);
        return { status, text, untagged, bytes, lines };
      }
      if (buffer[start] === 42 /* * */) {
        untagged++;
        if (keep) {
          const lf = buffer.indexOf(LF, start);
          lines.push(decoder.decode(buffer.subarray(start, Math.min(lf, start + 200))).trimEnd());
        }
      }
    }
  }

  /** The next whole response as text (greetings, continuations). */
  async #response(): Promise<string> {
    const [start, end] = await this.#next();
    this.#start = end;
    return decoder.decode(this.#buffer.subarray(start, end)).trimEnd();
  }

  /**
   * Where the next response starts and ends (after its last CRLF) in the buffer, reading more as
   * needed (which may move it): a line ending in `{n}` or `{n+}` continues after its literal.
   */
  async #next(): Promise<[number, number]> {
    for (;;) {
      const end = responseEnd(this.#buffer, this.#start, this.#end);
      if (end !== -1) return [this.#start, end];
      await this.#fill();
    }
  }

  async #fill(): Promise<void> {
    if (this.#start > 0 && this.#start === this.#end) {
      this.#start = this.#end = 0;
    } else if (this.#end === this.#buffer.length) {
      const used = this.#end - this.#start;
      const next = used * 2 > this.#buffer.length ? new Uint8Array(this.#buffer.length * 2) : this.#buffer;
      next.set(this.#buffer.subarray(this.#start, this.#end), 0);
      this.#buffer = next;
      this.#start = 0;
      this.#end = used;
    }
    const n = await this.conn.read(this.#buffer.subarray(this.#end));
    if (n === null) throw new Error("the server closed the connection");
    this.#end += n;
  }
}

/**
 * End (exclusive) of the IMAP response that starts at `start` in `buffer[..end]`, literals
 * included, or -1 when it is not complete yet.
 */
export function responseEnd(buffer: Uint8Array, start: number, end: number): number {
  let at = start;
  for (;;) {
    const lf = buffer.indexOf(LF, at);
    if (lf === -1 || lf >= end) return -1;
    const literal = literalSize(buffer, at, lf);
    if (literal === undefined) return lf + 1;
    at = lf + 1 + literal;
    if (at > end) return -1;
  }
}

/** The size announced by `{n}`/`{n+}`/`~{n}` at the end of the line `[from, lf]`, if any. */
function literalSize(buffer: Uint8Array, from: number, lf: number): number | undefined {
  let at = lf - 1;
  if (buffer[at] === 13) at--;
  if (buffer[at] !== 125 /* } */) return undefined;
  at--;
  if (buffer[at] === 43 /* + */) at--;
  let size = 0;
  let scale = 1;
  let digits = 0;
  while (at > from && buffer[at] >= 48 && buffer[at] <= 57) {
    size += (buffer[at] - 48) * scale;
    scale *= 10;
    digits++;
    at--;
  }
  return digits > 0 && buffer[at] === 123 /* { */ ? size : undefined;
}

function startsWith(buffer: Uint8Array, at: number, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (buffer[at + i] !== prefix[i]) return false;
  return true;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** An IMAP quoted string (the bench's user names and passwords have no CR, LF or NUL). */
export function quote(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}
