/**
 * What the DKIM tests share: a smarthost on loopback (smtp-server) that keeps what it receives, a
 * DNS resolver serving a domain's published records (the DnsRecords action's, parsed back from
 * zone-file strings), and mailauth's verification of a received message against it.
 */
import { Buffer } from "node:buffer";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import type { Obj } from "./mail_helpers.ts";

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
        callback(null, "2.0.0 Queued as D1");
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The strings of a zone-file TXT value (`"a" "b"` → ["a", "b"]). */
export function txtStrings(value: string): string[] {
  return [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, "$1"));
}

/** A resolver (dns.promises.resolve's shape) answering TXT queries from published records. */
export function resolverOf(records: readonly Obj[]) {
  return (name: string, type: string): Promise<string[][]> => {
    const wanted = `${name.toLowerCase().replace(/\.$/, "")}.`;
    const found = records.filter((r) => r.type === type && String(r.name).toLowerCase() === wanted);
    if (!found.length) {
      return Promise.reject(Object.assign(new Error(`${name} ${type}: not found`), { code: "ENOTFOUND" }));
    }
    return Promise.resolve(found.map((r) => txtStrings(String(r.value))));
  };
}

/** Each DKIM signature's selector, algorithm and mailauth's result for it. */
export async function verifyDkim(
  message: string,
  resolver: ReturnType<typeof resolverOf>,
): Promise<{ selector: string; algorithm: string; result: string; domain: string }[]> {
  const { dkimVerify } = await import("mailauth");
  const verdict = await dkimVerify(Buffer.from(message, "binary"), { resolver }) as {
    results: { selector: string; algo: string; signingDomain: string; status: { result: string } }[];
  };
  return verdict.results.map((r) => ({
    selector: r.selector,
    algorithm: r.algo,
    result: r.status.result,
    domain: r.signingDomain,
  }));
}
