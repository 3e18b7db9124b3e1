/**
 * The one DNS resolver of the server: node:dns's `Resolver` (c-ares in Node, Deno's own in Deno) on
 * the configured servers, or the system's when none is given, with a bounded time per query. Errors
 * keep node's codes (ENOTFOUND, ENODATA: no such record; ETIMEOUT, ESERVFAIL, ECONNREFUSED…: try
 * again later), which is what mailauth and RFC 7208/7489's temperror rules read.
 */
import { Resolver } from "node:dns/promises";
import { DnsCache } from "./cache.ts";
import { udpQuery } from "./udp_query.ts";

/** Record types asked for by name; answers as node:dns gives them. */
export type RecordType = "A" | "AAAA" | "TXT" | "MX" | "CNAME" | "PTR" | "NS" | "SRV";

/** How the resolver asks. */
export interface DnsResolverOptions {
  /** Servers in node:dns `setServers` form ("192.0.2.1", "192.0.2.1:5353", "[::1]:53"); empty: the system's. */
  servers?: readonly string[];
  /** Milliseconds before one try of a query is given up (default 5000, as glibc's resolver). */
  timeoutMs?: number;
  /** Tries per server (default 2, as glibc's `attempts`). */
  tries?: number;
  /**
   * Whether `resolve` remembers A, AAAA, TXT and MX answers for their TTL (cache.ts): for the checks
   * of incoming mail, which ask the same sender's records again for every message.
   */
  cache?: boolean;
}

/** Default time per try: RES_TIMEOUT of glibc. */
export const DEFAULT_DNS_TIMEOUT_MS = 5000;
/** Default tries: RES_DFLRETRY of glibc. */
export const DEFAULT_DNS_TRIES = 2;

/** A resolver on fixed servers; `resolve` has the signature of `dns.promises.resolve` (mailauth's `resolver`). */
export class DnsResolver {
  readonly #resolver: Resolver;
  /** The servers asked, as given; empty: the system's. */
  readonly servers: readonly string[];
  /** The answer cache, when asked for. */
  readonly cache: DnsCache | undefined;

  constructor(options: DnsResolverOptions = {}) {
    this.#resolver = new Resolver({
      timeout: options.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS,
      tries: options.tries ?? DEFAULT_DNS_TRIES,
    });
    this.servers = [...(options.servers ?? [])];
    if (this.servers.length) this.#resolver.setServers([...this.servers]);
    const uncached = (name: string, type: string) => this.#resolver.resolve(name, type as RecordType);
    const asked = this.servers.length ? this.servers : this.#resolver.getServers();
    const query = {
      timeoutMs: options.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS,
      tries: options.tries ?? DEFAULT_DNS_TRIES,
    };
    this.cache = options.cache && asked.length
      ? new DnsCache({
        query: (name, type) => udpQuery(asked, { name, type }, query),
        fallback: uncached,
      })
      : undefined;
    this.resolve = this.cache?.resolve ?? uncached;
  }

  /** The records of `type` at `name` (TXT: each record's strings; MX: exchange and priority…). */
  readonly resolve: (name: string, type: string) => Promise<unknown>;

  /** TXT records, each joined from its strings (RFC 7208 §3.3). */
  async resolveTxt(name: string): Promise<string[]> {
    return (await this.#resolver.resolveTxt(name)).map((parts) => parts.join(""));
  }

  /** MX records, lowest preference first. */
  async resolveMx(name: string): Promise<{ exchange: string; priority: number }[]> {
    return (await this.#resolver.resolveMx(name)).sort((a, b) => a.priority - b.priority);
  }

  /** IPv4 and IPv6 addresses of a host (either may be empty). */
  async addresses(name: string): Promise<string[]> {
    const settle = async (query: Promise<string[]>) => {
      try {
        return await query;
      } catch (error) {
        if (isNoRecord(error)) return [];
        throw error;
      }
    };
    const [v4, v6] = await Promise.all([
      settle(this.#resolver.resolve4(name)),
      settle(this.#resolver.resolve6(name)),
    ]);
    return [...v4, ...v6];
  }

  /** Stops queries in flight (they fail with ECANCELLED). */
  cancel(): void {
    this.#resolver.cancel();
  }
}

/** Whether a resolver error means "no such name or record" rather than "cannot tell now". */
export function isNoRecord(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === "ENOTFOUND" || code === "ENODATA";
}
