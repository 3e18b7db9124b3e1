/**
 * Helpers of the MX tests: a `postern serve` process with its SMTP listener, swaks (Debian package
 * `swaks`) for scripted sessions, a raw dialogue over a TCP socket for bytes no client sends, and a
 * smarthost on loopback that keeps what Postern relays to it.
 */
import { Buffer } from "node:buffer";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { freePort, type ServerProcess, startServerProcess } from "./helpers.ts";
import { mailCall, serverTarget, type Who } from "./mail_helpers.ts";

/** Whether swaks is installed (tests that need it are skipped with a message otherwise). */
export const HAS_SWAKS = await hasCommand("swaks");

/** Whether `name` is a command on PATH. */
export async function hasCommand(name: string): Promise<boolean> {
  try {
    const { code } = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
      .output();
    return code === 0;
  } catch {
    return false;
  }
}

/** Prints why a test is skipped (a missing peer). */
export function skipping(what: string, missing: string): boolean {
  console.warn(`Skipping "${what}": ${missing} is not installed (apt-get install -y ${missing})`);
  return true;
}

/** A server process with its MX on `smtpPort`. */
export interface MxProcess extends ServerProcess {
  smtpPort: number;
}

/**
 * Starts `postern serve` with `--smtp-listen` (through POSTERN_SMTP_LISTEN) on a free port, logging
 * at info level (the transaction lines).
 */
export async function startMxProcess(dataDir: string, env: Record<string, string> = {}): Promise<MxProcess> {
  const smtpPort = freePort();
  const server = await startServerProcess(dataDir, { POSTERN_SMTP_LISTEN: `127.0.0.1:${smtpPort}`, ...env }, {
    logLevel: "info",
  });
  return Object.assign(server, { smtpPort });
}

/** What a swaks run shows: its exit code, the whole transcript and the server's replies. */
export interface SwaksResult {
  code: number;
  transcript: string;
  /** Every reply line of the server ("250 2.1.5 Accepted"…), in order. */
  replies: string[];
}

/** Runs swaks against the MX on `port` with `args` (`--server` is added). */
export async function swaks(port: number, args: string[]): Promise<SwaksResult> {
  const { code, stdout, stderr } = await new Deno.Command("swaks", {
    args: ["--server", `127.0.0.1:${port}`, "--timeout", "30", ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const transcript = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  const replies = [...transcript.matchAll(/^<[-*~!]+ +(\d{3}[ -].*)$/gm)].map((m) => m[1]);
  return { code, transcript, replies };
}

/**
 * A raw SMTP dialogue: sends each chunk of `sends` after the previous reply arrived or
 * `replyWaitMs` passed without one (a chunk of several commands is pipelined), then reads until the
 * server closes or `quietMs` passes without a byte. Returns everything the server wrote.
 */
export async function rawDialogue(
  port: number,
  sends: (string | Uint8Array)[],
  options: { quietMs?: number; replyWaitMs?: number } = {},
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const decoder = new TextDecoder();
  let received = "";
  let closed = false;
  // One read at a time: a read that outlives its wait is kept for the next wait, not abandoned
  // (its bytes would be lost).
  let pending: Promise<Uint8Array | null> | undefined;
  const readOnce = async (waitMs: number): Promise<boolean> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"wait">((resolve) => timer = setTimeout(() => resolve("wait"), waitMs));
    pending ??= (async () => {
      const buffer = new Uint8Array(65536);
      const n = await conn.read(buffer);
      return n === null ? null : buffer.subarray(0, n);
    })();
    try {
      const got = await Promise.race([pending, timeout]);
      if (got === "wait") return false;
      pending = undefined;
      if (got === null) {
        closed = true;
        return false;
      }
      received += decoder.decode(got);
      return true;
    } catch {
      closed = true;
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
  /** Reads until a complete reply (a line "NNN text") follows what was there before. */
  const readReply = async () => {
    const before = received.length;
    for (let i = 0; i < 200 && !closed; i++) {
      if (/(^|\n)\d{3} [^\n]*\r\n$/.test(received.slice(before))) return;
      const got = await readOnce(options.replyWaitMs ?? 10_000);
      if (!got && received.length === before) return;
    }
  };
  try {
    await readReply(); // the greeting
    for (const chunk of sends) {
      if (closed) break;
      try {
        // Conn.write may take only part of a large buffer.
        let bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
        while (bytes.length) bytes = bytes.subarray(await conn.write(bytes));
      } catch {
        break;
      }
      await readReply();
    }
    while (!closed && await readOnce(options.quietMs ?? 300)) { /* drain */ }
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
  return received;
}

/** A small RFC 5322 message with CRLF line ends. */
export function smtpMessage(subject: string, body = "Hello."): string {
  return `From: sender@remote.test\r\nTo: someone@example.org\r\nSubject: ${subject}\r\n` +
    `Message-ID: <${crypto.randomUUID()}@remote.test>\r\n\r\n${body}\r\n`;
}

/** Subjects of the emails in `who`'s account, sorted. */
export async function subjects(server: ServerProcess, who: Who): Promise<string[]> {
  const target = serverTarget(server.url);
  const { ids } = await mailCall(target, "Email/query", {}, who);
  const { list } = await mailCall(target, "Email/get", { ids, properties: ["subject"] }, who);
  return (list as { subject: string }[]).map((e) => e.subject).sort();
}

/** A message as the smarthost received it. */
export interface Received {
  from: string;
  to: string[];
  data: string;
}

/** A smarthost on a free loopback port that accepts everything and keeps it. */
export async function smarthost() {
  const received: Received[] = [];
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS", "AUTH"],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString("binary"),
        });
        callback(null, "2.0.0 Queued as R1");
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
