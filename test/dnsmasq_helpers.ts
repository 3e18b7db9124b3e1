/**
 * A real DNS server for the tests: dnsmasq (Debian package `dnsmasq`) on 127.0.0.1 and a free port,
 * with a private command line (no /etc/dnsmasq.conf, no /etc/hosts, no upstream), answering for the
 * `.test` zones only (RFC 2606: never a real name), and stopped by its PID.
 */
import { DnsResolver } from "../src/dns/mod.ts";
import { freePort } from "./helpers.ts";
import { hasCommand } from "./smtp_helpers.ts";

/** Whether dnsmasq is installed (tests that need it are skipped otherwise). */
export const HAS_DNSMASQ = await hasCommand("dnsmasq") ||
  await Deno.stat("/usr/sbin/dnsmasq").then(() => true, () => false);

/** A running dnsmasq. */
export interface Dnsmasq {
  /** Its address as --dns-server takes it ("127.0.0.1:PORT"). */
  server: string;
  stop(): Promise<void>;
}

/** TXT records by name; a long value is split into strings of at most 255 bytes (RFC 1035 §3.3.14). */
export type TxtRecords = Record<string, string>;

/**
 * Starts dnsmasq serving `txt` (and NXDOMAIN for any other name under .test); waits until it answers.
 * `extra` adds dnsmasq options such as `--mx-host=` or `--host-record=`.
 */
export async function startDnsmasq(
  txt: TxtRecords,
  extra: string[] = [],
  /** Where it listens (default 127.0.0.1 and a free port; port 53 for tools that use the system resolver). */
  listen: { address?: string; port?: number } = {},
): Promise<Dnsmasq> {
  const dir = await Deno.makeTempDir({ prefix: "postern-dnsmasq-" });
  const address = listen.address ?? "127.0.0.1";
  const port = listen.port ?? freePort();
  const records = Object.entries(txt).map(([name, value]) => {
    const parts = value.match(/.{1,250}/g) ?? [""];
    if (value.includes(",")) throw new Error(`dnsmasq splits TXT text at commas: ${value}`);
    return `--txt-record=${name},${parts.join(",")}`;
  });
  const command = await hasCommand("dnsmasq") ? "dnsmasq" : "/usr/sbin/dnsmasq";
  const child = new Deno.Command(command, {
    args: [
      "--keep-in-foreground",
      "--conf-file=/dev/null",
      "--no-resolv",
      "--no-hosts",
      "--no-poll",
      "--bind-interfaces",
      `--listen-address=${address}`,
      `--port=${port}`,
      `--pid-file=${dir}/dnsmasq.pid`,
      "--local=/test/",
      "--cache-size=0",
      ...records,
      ...extra,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const server = `${address}:${port}`;
  const resolver = new DnsResolver({ servers: [server], timeoutMs: 500, tries: 1 });
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already exited */ }
    await child.status;
    await child.stderr.cancel().catch(() => undefined);
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  };
  // Ready when it answers: NXDOMAIN for a name it does not hold is an answer.
  for (let i = 0; i < 200; i++) {
    try {
      await resolver.resolve("ready.probe.test", "TXT");
      return { server, stop };
    } catch (error) {
      if ((error as { code?: string }).code === "ENOTFOUND") return { server, stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const why = await new Response(child.stderr).text().catch(() => "");
  await stop();
  throw new Error(`dnsmasq did not start on ${server}: ${why}`);
}
