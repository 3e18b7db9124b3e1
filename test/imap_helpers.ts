/**
 * Helpers of the IMAP tests: a `postern serve` process with its IMAP listeners (143 style with
 * STARTTLS, 993 style with implicit TLS) on a self-signed certificate, a raw line-by-line IMAP
 * dialogue for what no client sends, and Python's imaplib driven by test/imap_client.py.
 */
import assert from "node:assert/strict";
import { freePort, PASSWORD, type ServerProcess, startServerProcess } from "./helpers.ts";
import { selfSignedCertificate } from "./smtp_submission_helpers.ts";
import { hasCommand, skipping } from "./smtp_helpers.ts";

export const HAS_OPENSSL = await hasCommand("openssl");
export const HAS_PYTHON = await hasCommand("python3");

/** Whether a peer the IMAP tests need is missing (the test is skipped then). */
export function imapPeersMissing(what: string, needPython = false): boolean {
  if (!HAS_OPENSSL) return skipping(what, "openssl");
  if (needPython && !HAS_PYTHON) return skipping(what, "python3");
  return false;
}

/** A server with its IMAP listeners and the certificate they offer. */
export interface ImapProcess extends ServerProcess {
  imapPort: number;
  imapsPort: number;
  certPem: string;
}

/** Starts `postern serve` with both IMAP listeners on free ports, logging at info level. */
export async function startImapProcess(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<ImapProcess> {
  const files = await selfSignedCertificate(dataDir);
  const imapPort = freePort();
  const imapsPort = freePort();
  const server = await startServerProcess(dataDir, {
    POSTERN_IMAP_LISTEN: `127.0.0.1:${imapPort}`,
    POSTERN_IMAPS_LISTEN: `127.0.0.1:${imapsPort}`,
    POSTERN_TLS_CERT: files.cert,
    POSTERN_TLS_KEY: files.key,
    ...env,
  }, { logLevel: "info" });
  return Object.assign(server, { imapPort, imapsPort, certPem: await Deno.readTextFile(files.cert) });
}

/**
 * Logged-in dialogues over the implicit-TLS listener of `server` for one test: `login` opens one and
 * logs `who` in with the test password (asserting OK), `closeAll` closes every one opened.
 */
export function imapLogins(server: ImapProcess): {
  login(who: { emailAddress: string }): Promise<ImapTalk>;
  closeAll(): void;
} {
  const talks: ImapTalk[] = [];
  return {
    async login(who) {
      const talk = await ImapTalk.open(server.imapsPort, { implicitTls: true, certPem: server.certPem });
      talks.push(talk);
      assert.match((await talk.command(`LOGIN ${who.emailAddress} "${PASSWORD}"`)).at(-1)!, / OK /);
      return talk;
    },
    closeAll() {
      for (const talk of talks) talk.close();
    },
  };
}

const encoder = new TextEncoder();

/** A raw IMAP dialogue over TCP (then STARTTLS) or implicit TLS. */
export class ImapTalk {
  #buffer = "";
  #tag = 0;
  private constructor(private conn: Deno.Conn, private readonly certPem: string) {}

  /** Connects and reads the greeting line. */
  static async open(port: number, options: { implicitTls: boolean; certPem: string }): Promise<ImapTalk> {
    const conn = options.implicitTls
      ? await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [options.certPem] })
      : await Deno.connect({ hostname: "127.0.0.1", port });
    const talk = new ImapTalk(conn, options.certPem);
    talk.greeting = await talk.line();
    return talk;
  }

  greeting = "";

  /** Sends a tagged command and returns every line up to its tagged answer (inclusive). */
  async command(text: string): Promise<string[]> {
    const tag = `t${++this.#tag}`;
    await this.write(`${tag} ${text}\r\n`);
    return await this.until(tag);
  }

  /** Reads lines until one starts with `tag `. */
  async until(tag: string): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.line();
      lines.push(line);
      if (line.startsWith(`${tag} `)) return lines;
    }
  }

  /** Sends raw text. */
  async write(text: string): Promise<void> {
    const bytes = encoder.encode(text);
    for (let at = 0; at < bytes.length;) at += await this.conn.write(bytes.subarray(at));
  }

  /** The next line (without CRLF); throws when the server closed before one. */
  async line(): Promise<string> {
    for (;;) {
      const end = this.#buffer.indexOf("\r\n");
      if (end >= 0) {
        const line = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        return line;
      }
      const chunk = new Uint8Array(16384);
      const n = await this.conn.read(chunk);
      if (n === null) throw new Error(`closed; unread: ${JSON.stringify(this.#buffer)}`);
      this.#buffer += new TextDecoder().decode(chunk.subarray(0, n));
    }
  }

  /** Whether the server closed the connection (reading to its end). */
  async closed(): Promise<boolean> {
    try {
      for (;;) {
        const chunk = new Uint8Array(4096);
        if (await this.conn.read(chunk) === null) return true;
      }
    } catch {
      return true;
    }
  }

  /** STARTTLS and the handshake; `pipelined` is sent in the same packet right after the command. */
  async startTls(pipelined = ""): Promise<string[]> {
    const tag = `t${++this.#tag}`;
    await this.write(`${tag} STARTTLS\r\n${pipelined}`);
    const lines = await this.until(tag);
    assert.match(lines.at(-1)!, / OK /, lines.join("\n"));
    this.conn = await Deno.startTls(this.conn as Deno.TcpConn, {
      hostname: "127.0.0.1",
      caCerts: [this.certPem],
    });
    return lines;
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}

/**
 * Runs test/imap_client.py with `steps`; returns what it printed (a JSON result per step). `during`
 * runs once the script is idling (its "idle" step), to change the mailbox under the IDLE.
 */
export async function imaplib(job: {
  port: number;
  tls: "starttls" | "implicit";
  steps: unknown[][];
}, during?: () => Promise<void>): Promise<unknown[]> {
  const child = new Deno.Command("python3", {
    args: [new URL("./imap_client.py", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(encoder.encode(JSON.stringify(job)));
  await writer.close();
  const stdout = new Response(child.stdout).text();
  let stderr = "";
  let ran = false;
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
    stderr += chunk;
    if (!ran && during && stderr.includes("IDLING")) {
      ran = true;
      await during();
    }
  }
  await child.status;
  const text = (await stdout).trim();
  assert.ok(text, `imaplib printed nothing: ${stderr}`);
  return JSON.parse(text);
}
