/**
 * Peers of the outbound transport tests, all on loopback: Postfix's `smtp-sink` (Debian package
 * `postfix`) as a receiving MX on a chosen 127.0.0.x address, keeping each transaction in a dump file
 * (its MAIL FROM arguments included) and answering with the codes its options choose; raw TCP
 * servers for peers no real MTA imitates (one that never speaks, one that speaks garbage); and the
 * transport wired to a dnsmasq that serves the test MX records.
 */
import { DnsResolver } from "../src/dns/mod.ts";
import {
  type OutboundMessage,
  SmtpTransport,
  type SmtpTransportOptions,
  type TlsResult,
} from "../src/outbound/mod.ts";
import type { Rec } from "./dns_check_helpers.ts";
import { cli } from "./helpers.ts";
import { hasCommand } from "./smtp_helpers.ts";

/** Whether smtp-sink is installed. */
export const HAS_SMTP_SINK = await hasCommand("smtp-sink") ||
  await Deno.stat("/usr/sbin/smtp-sink").then(() => true, () => false);

/** A running smtp-sink. */
export interface Sink {
  address: string;
  /** The transactions it received, each as its dump file's text (X-Mail-Args, X-Rcpt-Args, the message). */
  received(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Starts smtp-sink on `address`:`port` with `args` (`-r RCPT` answers RCPT with 4xx, `-q .` hangs up
 * after the end of data…), dumping every transaction; resolves once it accepts connections.
 */
export async function startSink(address: string, port: number, args: string[] = []): Promise<Sink> {
  const dir = await Deno.makeTempDir({ prefix: "postern-sink-" });
  await Deno.chmod(dir, 0o777);
  // As root it must drop to a user (-u); the package's `postfix` user can write the open directory.
  const user = Deno.uid() === 0 ? ["-u", "postfix"] : [];
  const child = new Deno.Command("smtp-sink", {
    args: [...user, "-h", `sink-${address}`, "-d", `${dir}/m.`, ...args, `${address}:${port}`, "256"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* exited */ }
    await child.status;
    await child.stderr.cancel().catch(() => undefined);
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  };
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: address, port })).close();
      const received = async () => {
        const texts: string[] = [];
        for await (const entry of Deno.readDir(dir)) {
          // smtp-sink removes the dump of a transaction that did not complete (a hang-up at the end
          // of DATA): one that vanishes between the listing and the reading was not received.
          const text = await Deno.readTextFile(`${dir}/${entry.name}`).catch((error) => {
            if (error instanceof Deno.errors.NotFound) return undefined;
            throw error;
          });
          if (text !== undefined) texts.push(text);
        }
        return texts;
      };
      return { address, received, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const why = await new Response(child.stderr).text().catch(() => "");
  await stop();
  throw new Error(`smtp-sink did not start on ${address}:${port}: ${why}`);
}

/** A TCP server on `address`:`port` that runs `session` on each connection (a peer no MTA imitates). */
export function rawServer(
  address: string,
  port: number,
  session: (conn: Deno.Conn) => Promise<void>,
): { stop(): Promise<void> } {
  const listener = Deno.listen({ hostname: address, port });
  const conns = new Set<Deno.Conn>();
  const sessions: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      sessions.push(session(conn).catch(() => undefined).finally(() => conns.delete(conn)));
    }
  })().catch(() => undefined);
  return {
    async stop() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await accepting;
      await Promise.all(sessions);
    },
  };
}

/** Reads from `conn` until it closes (the peer's side of a session that never answers). */
export async function drain(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(4096);
  while (await conn.read(buffer).catch(() => null) !== null) { /* discard */ }
}

/** A transport on the dnsmasq `server`, with the MX port of the test, recording TLS outcomes. */
export function testTransport(
  server: string,
  mxPort: number,
  options: Partial<SmtpTransportOptions> = {},
): { transport: SmtpTransport; tls: TlsResult[] } {
  const tls: TlsResult[] = [];
  const transport = new SmtpTransport({
    resolver: new DnsResolver({ servers: [server], timeoutMs: 1000, tries: 1 }),
    ehloName: "mail.postern.test",
    mxPort,
    tlsReporter: { record: (result) => tls.push(result) },
    // Equal preferences in the order given, so a test knows which host comes first.
    random: () => 0.999,
    ...options,
  });
  return { transport, tls };
}

/** A small message from sender@postern.test to `recipients`. */
export function outboundMessage(recipients: string[], body = "Hello.", extra: Partial<OutboundMessage> = {}) {
  const text = `From: sender@postern.test\r\nTo: ${recipients.join(", ")}\r\nSubject: outbound\r\n` +
    `Message-ID: <${crypto.randomUUID()}@postern.test>\r\n\r\n${body}\r\n`;
  return { mailFrom: "sender@postern.test", recipients, message: new TextEncoder().encode(text), ...extra };
}

/** Runs openssl (Debian package `openssl`) with `args` in `dir`. */
async function openssl(dir: string, args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (code !== 0) throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

/**
 * A test CA and a server certificate it signed for `subjectAltName` ("DNS:mx.tls.test",
 * "IP:127.0.0.1"), written to `dir` (mx.pem, mx.key, readable by Postfix's user); the PEM texts.
 */
export async function makeCertificates(dir: string, subjectAltName: string) {
  const days = ["-days", "2"];
  await openssl(
    dir,
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", ...days]
      .concat(["-subj", "/CN=Postern Test CA"]),
  );
  await openssl(
    dir,
    ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "mx.key", "-out", "mx.csr"]
      .concat(["-subj", "/CN=" + subjectAltName.replace(/^\w+:/, "")]),
  );
  await Deno.writeTextFile(`${dir}/san.cnf`, `subjectAltName=${subjectAltName}\n`);
  await openssl(
    dir,
    ["x509", "-req", "-in", "mx.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"]
      .concat(["-out", "mx.pem", ...days, "-extfile", "san.cnf"]),
  );
  for (const name of ["mx.pem", "mx.key"]) await Deno.chmod(`${dir}/${name}`, 0o644);
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  return { ca: await read("ca.pem"), cert: await read("mx.pem"), key: await read("mx.key") };
}

/**
 * Makes a data directory for example.org with `postern init` (the admin password of the tests); the
 * DNS records `postern dns` lists for it with `mailHost` as the mail server's name.
 */
export async function initMailData(dir: string, mailHost: string): Promise<Rec[]> {
  const init = await cli(["--data", dir, "init", "--domain", "example.org"], {
    POSTERN_ADMIN_PASSWORD: "admin password for tests",
  });
  if (init.code !== 0) throw new Error(`postern init failed: ${init.stderr}`);
  const listed = await cli(["--data", dir, "--json", "dns", "example.org"], { POSTERN_MAIL_HOST: mailHost });
  return JSON.parse(listed.stdout).records as Rec[];
}
