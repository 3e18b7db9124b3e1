/**
 * Helpers of the submission tests: a `postern serve` process with its submission listeners on 587-
 * and 465-style ports and a self-signed certificate made by openssl, clients (nodemailer in this
 * process, Python's smtplib in another) and a line-by-line SMTP dialogue over TCP or TLS for what no
 * client sends.
 */
import assert from "node:assert/strict";
import nodemailer from "nodemailer";
import { freePort, PASSWORD, type ServerProcess, startServerProcess } from "./helpers.ts";
import { mailboxesByName, mailCall, type Obj, serverTarget, type Who } from "./mail_helpers.ts";
import { hasCommand, skipping } from "./smtp_helpers.ts";

/** Whether openssl and python3 are there (the tests that need them are skipped otherwise). */
export const HAS_OPENSSL = await hasCommand("openssl");
export const HAS_PYTHON = await hasCommand("python3");

/** The reason to skip a submission test, or false. */
export function submissionPeersMissing(what: string, needPython = false): boolean {
  if (!HAS_OPENSSL) return skipping(what, "openssl");
  if (needPython && !HAS_PYTHON) return skipping(what, "python3");
  return false;
}

/** A server with its submission listeners and the certificate they offer. */
export interface SubmissionProcess extends ServerProcess {
  /** The STARTTLS listener (587 style). */
  submissionPort: number;
  /** The implicit-TLS listener (465 style). */
  submissionsPort: number;
  certPem: string;
}

/** Makes a self-signed certificate for 127.0.0.1 and localhost in `dir`; the file paths. */
export async function selfSignedCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const { code, stderr } = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      // A leaf, not a CA: rustls (Deno's TLS client) refuses a CA certificate as a server's.
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "extendedKeyUsage=serverAuth",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return { cert, key };
}

/** Starts `postern serve` with both submission listeners on free ports, logging at info level. */
export async function startSubmissionProcess(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<SubmissionProcess> {
  const files = await selfSignedCertificate(dataDir);
  const submissionPort = freePort();
  const submissionsPort = freePort();
  const server = await startServerProcess(dataDir, {
    POSTERN_SUBMISSION_LISTEN: `127.0.0.1:${submissionPort}`,
    POSTERN_SUBMISSIONS_LISTEN: `127.0.0.1:${submissionsPort}`,
    POSTERN_TLS_CERT: files.cert,
    POSTERN_TLS_KEY: files.key,
    ...env,
  }, { logLevel: "info" });
  return Object.assign(server, {
    submissionPort,
    submissionsPort,
    certPem: await Deno.readTextFile(files.cert),
  });
}

/** A message from `from` to `to` with CRLF line ends. */
export function submittedMessage(from: string, to: string[], subject: string, extra = ""): string {
  return `From: ${from}\r\nTo: ${to.join(", ")}\r\nSubject: ${subject}\r\n${extra}` +
    `Message-ID: <${crypto.randomUUID()}@example.org>\r\nDate: ${new Date().toUTCString()}\r\n\r\n` +
    `Sent over SMTP submission.\r\n`;
}

/** What a client run ends with: accepted, or the server's refusal. */
export type SubmitResult = { ok: true } | { ok: false; code: number; reply: string };

/** One submission with nodemailer: `auth` is a password login or an OAuth2 token. */
export async function nodemailerSubmit(
  port: number,
  options: {
    implicitTls: boolean;
    auth: { user: string; pass: string; method?: "PLAIN" | "LOGIN" } | { user: string; accessToken: string };
    from: string;
    to: string[];
    raw: string;
  },
): Promise<SubmitResult> {
  const auth = "accessToken" in options.auth
    ? { type: "OAuth2" as const, user: options.auth.user, accessToken: options.auth.accessToken }
    : { user: options.auth.user, pass: options.auth.pass };
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port,
    secure: options.implicitTls,
    requireTLS: !options.implicitTls,
    tls: { rejectUnauthorized: false },
    authMethod: "method" in options.auth ? options.auth.method : undefined,
    auth,
    connectionTimeout: 60_000,
    socketTimeout: 60_000,
  });
  try {
    await transport.sendMail({ envelope: { from: options.from, to: options.to }, raw: options.raw });
    return { ok: true };
  } catch (error) {
    const e = error as { responseCode?: number; response?: string; message: string };
    return { ok: false, code: e.responseCode ?? 0, reply: e.response ?? e.message };
  } finally {
    transport.close();
  }
}

/** One submission with Python's smtplib (test/smtp_submit.py). */
export async function pythonSubmit(job: {
  port: number;
  tls: "starttls" | "implicit";
  mechanism: "PLAIN" | "LOGIN" | "XOAUTH2" | "OAUTHBEARER";
  user: string;
  secret: string;
  mail_from: string;
  rcpt_to: string[];
  message: string;
}): Promise<SubmitResult> {
  const child = new Deno.Command("python3", {
    args: [new URL("./smtp_submit.py", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(job)));
  await writer.close();
  const { stdout, stderr } = await child.output();
  const text = new TextDecoder().decode(stdout).trim();
  assert.ok(text, `smtplib printed nothing: ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(text);
}

/** A line-by-line SMTP dialogue, over TCP (then STARTTLS) or implicit TLS. */
export class SmtpTalk {
  #buffer = "";
  private constructor(private conn: Deno.Conn, private readonly certPem: string) {}

  /** Connects and reads the greeting. */
  static async open(port: number, options: { implicitTls: boolean; certPem: string }): Promise<SmtpTalk> {
    const conn = options.implicitTls
      ? await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [options.certPem] })
      : await Deno.connect({ hostname: "127.0.0.1", port });
    const talk = new SmtpTalk(conn, options.certPem);
    const greeting = await talk.reply();
    assert.match(greeting, /^220 /, greeting);
    return talk;
  }

  /** Sends one line (CRLF added) and returns the whole reply ("250-…\r\n250 …"). */
  async command(line: string): Promise<string> {
    await this.write(`${line}\r\n`);
    return await this.reply();
  }

  /** Sends raw bytes and returns the next reply. */
  async send(text: string): Promise<string> {
    await this.write(text);
    return await this.reply();
  }

  /** The next reply, unasked (e.g. the 421 of a shutdown). */
  next(): Promise<string> {
    return this.reply();
  }

  /** EHLO, STARTTLS and EHLO again; the second EHLO's reply. */
  async startTls(): Promise<string> {
    await this.command("EHLO client.test");
    const ready = await this.command("STARTTLS");
    assert.match(ready, /^220 /, ready);
    this.conn = await Deno.startTls(this.conn as Deno.TcpConn, {
      hostname: "127.0.0.1",
      caCerts: [this.certPem],
    });
    return await this.command("EHLO client.test");
  }

  /** AUTH PLAIN with `login` and `password` in the initial response. */
  async authPlain(login: string, password: string): Promise<string> {
    return await this.command(`AUTH PLAIN ${base64(`\0${login}\0${password}`)}`);
  }

  /** One message: MAIL, RCPT each, DATA; the reply to the end of data (or the first refusal). */
  async mail(from: string, to: string[], message: string): Promise<string> {
    const mail = await this.command(`MAIL FROM:<${from}>`);
    if (!mail.startsWith("250")) return mail;
    for (const rcpt of to) {
      const reply = await this.command(`RCPT TO:<${rcpt}>`);
      if (!reply.startsWith("250")) return reply;
    }
    const data = await this.command("DATA");
    if (!data.startsWith("354")) return data;
    return await this.send(`${message}.\r\n`);
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed by the server */ }
  }

  /** Sends raw text without waiting for a reply. */
  async write(text: string): Promise<void> {
    let bytes = new TextEncoder().encode(text);
    while (bytes.length) bytes = bytes.subarray(await this.conn.write(bytes));
  }

  private async reply(): Promise<string> {
    const buffer = new Uint8Array(65536);
    for (;;) {
      const end = /(^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(this.#buffer);
      if (end) {
        const length = end.index + end[0].length;
        const reply = this.#buffer.slice(0, length).trimEnd();
        this.#buffer = this.#buffer.slice(length);
        return reply;
      }
      const n = await this.conn.read(buffer);
      if (n === null) return `(closed) ${this.#buffer}`;
      this.#buffer += new TextDecoder().decode(buffer.subarray(0, n));
    }
  }
}

/**
 * A session on the implicit-TLS submission port of `server`, greeted (EHLO) and logged in as
 * `address` with the test password (235 asserted).
 */
export async function loggedInTalk(server: SubmissionProcess, address: string): Promise<SmtpTalk> {
  const talk = await SmtpTalk.open(server.submissionsPort, { implicitTls: true, certPem: server.certPem });
  await talk.command("EHLO client.test");
  assert.match(await talk.authPlain(address, PASSWORD), /^235 /);
  return talk;
}

/** Base64 of UTF-8 text. */
export function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

/** Waits until `check` passes (it throws until then), polling for up to a minute. */
export async function eventually(check: () => void | Promise<void>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Subjects of `who`'s emails in the mailbox named `name`. */
export async function subjectsIn(server: ServerProcess, who: Who, name: string): Promise<string[]> {
  const target = serverTarget(server.url);
  const mailbox = (await mailboxesByName(target, who))[name];
  const { ids } = await mailCall(target, "Email/query", { filter: { inMailbox: mailbox.id } }, who);
  const { list } = await mailCall(target, "Email/get", { ids, properties: ["subject"] }, who);
  return (list as Obj[]).map((e) => e.subject as string).sort();
}

/** The raw `Received` fields of each of `who`'s emails in the mailbox named `name`, in no order. */
export async function receivedFieldsIn(server: ServerProcess, who: Who, name: string): Promise<string[][]> {
  const target = serverTarget(server.url);
  const mailbox = (await mailboxesByName(target, who))[name];
  const { ids } = await mailCall(target, "Email/query", { filter: { inMailbox: mailbox.id } }, who);
  const { list } = await mailCall(target, "Email/get", { ids, properties: ["header:Received:all"] }, who);
  return (list as Obj[]).map((e) => e["header:Received:all"] as string[]);
}
