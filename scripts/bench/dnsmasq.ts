/**
 * A private dnsmasq (Debian package `dnsmasq-base`) on loopback, for the benchmarks and the tests: a
 * private command line (no /etc/dnsmasq.conf, no /etc/hosts, no upstream), answering for the `.test`
 * zones (RFC 2606: never a real name) and the records it is given, stopped by its PID. The inbound
 * benchmark runs one next to the MX as a mail server runs next to a local caching resolver: without
 * it the MX would ask the machine's resolver, and the figure would measure that resolver's round
 * trips rather than the MX; its records then have a TTL of 300 s, as SPF and DMARC records commonly
 * do (dnsmasq's default for local records is 0, which no real zone serves), so the MX's answer cache
 * (src/dns/cache.ts) works as it would for a repeated sender.
 */

const DNSMASQ = "/usr/sbin/dnsmasq";

/** Whether dnsmasq is installed. */
export async function canRunDnsmasq(): Promise<boolean> {
  return await Deno.stat(DNSMASQ).then(() => true, () => false);
}

/** A running dnsmasq. */
export interface Dnsmasq {
  /** Its address as --dns-server takes it ("127.0.0.1:PORT"). */
  server: string;
  stop(): Promise<void>;
}

/** What {@link startDnsmasq} serves, and where. */
export interface DnsmasqOptions {
  /** Its loopback address (default 127.0.0.1). */
  address?: string;
  port: number;
  /** TXT records by name; a long value is split into strings of at most 250 bytes (no commas). */
  txt?: Record<string, string>;
  /** More dnsmasq options, such as `--mx-host=` or `--host-record=`. */
  extra?: string[];
  /** The TTL of its records (dnsmasq's default: 0). */
  ttl?: number;
  /**
   * Answer for `.test` as its authoritative server does: every negative answer (NXDOMAIN, no record
   * of the type) carries the zone's SOA, as RFC 2308 §3 requires and every real resolver passes on, so
   * a resolver may remember it for the SOA's MINIMUM (`ttl`, else 300 s). Plain `--local` answers
   * NXDOMAIN without an SOA, which a resolver must not cache (RFC 2308 §5, src/dns/cache.ts): each
   * DMARC check's look-up of `_dmarc.test` (mailauth walks up to the organizational domain) would go
   * out again, a round trip no real zone costs a repeated sender.
   */
  authoritative?: boolean;
}

/** Starts dnsmasq; resolves once it answers (NXDOMAIN for a name it does not hold is an answer). */
export async function startDnsmasq(options: DnsmasqOptions): Promise<Dnsmasq> {
  const address = options.address ?? "127.0.0.1";
  const { port } = options;
  const records = Object.entries(options.txt ?? {}).map(([name, value]) => {
    if (value.includes(",")) throw new Error(`dnsmasq splits TXT text at commas: ${value}`);
    return `--txt-record=${name},${(value.match(/.{1,250}/g) ?? [""]).join(",")}`;
  });
  const child = new Deno.Command(DNSMASQ, {
    args: [
      "--keep-in-foreground",
      "--conf-file=/dev/null",
      "--no-resolv",
      "--no-hosts",
      "--no-poll",
      "--bind-interfaces",
      `--listen-address=${address}`,
      `--port=${port}`,
      "--pid-file=",
      "--local=/test/",
      "--cache-size=0",
      ...(options.ttl === undefined ? [] : [`--local-ttl=${options.ttl}`]),
      ...(options.authoritative
        ? ["--auth-zone=test", `--auth-server=ns.test,${address}`, `--auth-ttl=${options.ttl ?? 300}`]
        : []),
      ...records,
      ...options.extra ?? [],
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const server = `${address}:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already exited */ }
    await child.status;
    await child.stderr.cancel().catch(() => undefined);
  };
  // Each probe gives up after 250 ms: a query sent before dnsmasq has bound would otherwise wait out
  // the resolver's own timeout (5 s) although dnsmasq answers a few milliseconds later. 200 probes
  // still give a slow machine over a minute.
  for (let i = 0; i < 200; i++) {
    const probe = new AbortController();
    const timer = setTimeout(() => probe.abort(), 250);
    try {
      await Deno.resolveDns("ready.probe.test", "TXT", {
        nameServer: { ipAddr: address, port },
        signal: probe.signal,
      });
      return { server, stop };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return { server, stop };
    } finally {
      clearTimeout(timer);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const why = await new Response(child.stderr).text().catch(() => "");
  await stop();
  throw new Error(`dnsmasq did not start on ${server}: ${why}`);
}
