/**
 * The inbound benchmark's DNS: a private dnsmasq on loopback holding the sending domain's SPF and
 * DMARC records, as a mail server runs next to a local caching resolver. Without it the MX would ask
 * the machine's resolver, and the figure would measure that resolver's round trips (on a shared
 * machine sometimes a second per look-up) rather than the MX. The records have a TTL of 300 s, as
 * SPF and DMARC records commonly do (dnsmasq's default for local records is 0, which no real zone
 * serves), so the MX's answer cache (src/dns/cache.ts) works as it would for a repeated sender.
 */

const DNSMASQ = "/usr/sbin/dnsmasq";

/** Whether dnsmasq is installed. */
export async function canRunDnsmasq(): Promise<boolean> {
  return await Deno.stat(DNSMASQ).then(() => true, () => false);
}

/** A running dnsmasq. */
export interface BenchDns {
  /** Its address as --dns-server takes it ("127.0.0.1:PORT"). */
  server: string;
  stop(): Promise<void>;
}

/**
 * Starts dnsmasq on 127.0.0.1:`port` answering `txt` (no commas in values: dnsmasq splits there) and
 * NXDOMAIN for every other name under `.test`; resolves once it answers.
 */
export async function startBenchDns(port: number, txt: Record<string, string>): Promise<BenchDns> {
  const child = new Deno.Command(DNSMASQ, {
    args: [
      "--keep-in-foreground",
      "--conf-file=/dev/null",
      "--no-resolv",
      "--no-hosts",
      "--no-poll",
      "--bind-interfaces",
      "--listen-address=127.0.0.1",
      `--port=${port}`,
      "--pid-file=",
      "--local=/test/",
      "--local-ttl=300",
      ...Object.entries(txt).map(([name, value]) => `--txt-record=${name},${value}`),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const server = `127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  };
  for (let i = 0; i < 100; i++) {
    try {
      await Deno.resolveDns("ready.bench.test", "TXT", { nameServer: { ipAddr: "127.0.0.1", port } });
      return { server, stop };
    } catch (error) {
      // NXDOMAIN is an answer: it is up.
      if (error instanceof Deno.errors.NotFound) return { server, stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`dnsmasq did not start on ${server}`);
}
