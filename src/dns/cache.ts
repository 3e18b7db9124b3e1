/**
 * DNS answers remembered for as long as their TTL allows, so the SPF and DMARC records of a sender
 * that sends many messages are asked once per TTL instead of once per message (measured under the
 * inbound benchmark: the two TXT queries of each message were most of the authentication workers'
 * CPU time). Read in order:
 *
 * 1. Only A, AAAA, TXT and MX are cached (what SPF, DKIM, DMARC and MX look-ups ask); other types
 *    go to the uncached resolver.
 * 2. A positive answer lives for the smallest TTL of its records (CNAMEs of the chain included),
 *    at most `maxTtlSeconds`; a TTL of 0 is not cached.
 * 3. A negative answer (NXDOMAIN: ENOTFOUND; no record of the type: ENODATA) lives for the SOA's
 *    negative TTL (RFC 2308 §5: the smaller of the SOA record's TTL and its MINIMUM field); without
 *    an SOA it is not cached. Failures (SERVFAIL, timeouts) are never cached.
 * 4. Questions asked while the same one is in flight share its answer.
 * 5. A truncated reply goes to the uncached resolver (which asks over TCP).
 * 6. At most `maxEntries` answers; the oldest go first.
 */
// @deno-types="@types/dns-packet"
import type * as packet from "dns-packet";
import { dnsError, type UdpAnswer, type UdpRecordType } from "./udp_query.ts";

/** Bounds of the cache. */
export const DNS_CACHE_LIMITS = {
  maxEntries: 10_000,
  /** A longer TTL is cut to this (an hour: a changed SPF or DMARC record is seen within it at worst). */
  maxTtlSeconds: 3600,
} as const;

const CACHED: ReadonlySet<string> = new Set(["A", "AAAA", "TXT", "MX"]);

interface Entry {
  expires: number;
  value?: unknown;
  /** The error code of a negative answer. */
  error?: string;
}

/** A resolve function (`dns.promises.resolve`'s signature) in front of another, with a TTL cache. */
export class DnsCache {
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<unknown>>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #maxTtlSeconds: number;
  /** Answers given from the cache, and questions that went out (for tests and metrics). */
  hits = 0;
  misses = 0;

  constructor(
    private readonly options: {
      /** Asks the question (udp_query.ts). */
      query: (name: string, type: UdpRecordType) => Promise<UdpAnswer>;
      /** For the types not cached and truncated replies. */
      fallback: (name: string, type: string) => Promise<unknown>;
      now?: () => number;
      maxEntries?: number;
      maxTtlSeconds?: number;
    },
  ) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? DNS_CACHE_LIMITS.maxEntries;
    this.#maxTtlSeconds = options.maxTtlSeconds ?? DNS_CACHE_LIMITS.maxTtlSeconds;
  }

  /** The records of `type` at `name`, as node:dns's `resolve` gives them (errors with its codes). */
  resolve = (name: string, type: string): Promise<unknown> => {
    const upper = type.toUpperCase();
    if (!CACHED.has(upper)) return this.options.fallback(name, type);
    const key = `${upper} ${name.toLowerCase().replace(/\.$/, "")}`;
    const entry = this.#entries.get(key);
    if (entry && entry.expires > this.#now()) {
      this.hits++;
      if (entry.error) return Promise.reject(dnsError(entry.error, `query${upper}`, name));
      return Promise.resolve(entry.value);
    }
    if (entry) this.#entries.delete(key);
    let pending = this.#inFlight.get(key);
    if (!pending) {
      this.misses++;
      pending = this.#ask(key, name, upper as UdpRecordType).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return pending;
  };

  async #ask(key: string, name: string, type: UdpRecordType): Promise<unknown> {
    const answer = await this.options.query(name, type);
    if (answer.truncated) return await this.options.fallback(name, type);
    const syscall = `query${type}`;
    if (answer.rcode === "NXDOMAIN" || answer.rcode === "NOERROR") {
      const records = answer.answers.filter((r) => r.type === type);
      if (answer.rcode === "NOERROR" && records.length) {
        const ttl = Math.min(...answer.answers.map((r) => ("ttl" in r ? r.ttl : undefined) ?? 0));
        const value = records.map((r) => shape(r));
        this.#remember(key, ttl, { value });
        return value;
      }
      const code = answer.rcode === "NXDOMAIN" ? "ENOTFOUND" : "ENODATA";
      this.#remember(key, negativeTtl(answer.authorities), { error: code });
      throw dnsError(code, syscall, name);
    }
    throw dnsError(RCODE_ERRORS[answer.rcode] ?? "EBADRESP", syscall, name);
  }

  #remember(key: string, ttlSeconds: number, entry: Omit<Entry, "expires">): void {
    const seconds = Math.min(ttlSeconds, this.#maxTtlSeconds);
    if (!(seconds > 0)) return;
    this.#entries.set(key, { ...entry, expires: this.#now() + seconds * 1000 });
    while (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }
}

/** node:dns's codes for the response codes that are failures (RFC 1035 §4.1.1). */
const RCODE_ERRORS: Readonly<Record<string, string>> = {
  FORMERR: "EFORMERR",
  SERVFAIL: "ESERVFAIL",
  NOTIMP: "ENOTIMP",
  REFUSED: "EREFUSED",
};

/** RFC 2308 §5: the smaller of the SOA's own TTL and its MINIMUM; 0 (not cached) without an SOA. */
function negativeTtl(authorities: readonly packet.Answer[]): number {
  const soa = authorities.find((r) => r.type === "SOA");
  if (!soa || soa.type !== "SOA") return 0;
  return Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0);
}

const LATIN1 = new TextDecoder("latin1");

/** One record as node:dns gives it: an address, a TXT record's strings, an MX's exchange and priority. */
function shape(record: packet.Answer): unknown {
  switch (record.type) {
    case "A":
    case "AAAA":
      return record.data;
    case "TXT": {
      const data = record.data as unknown as (Uint8Array | string)[] | Uint8Array | string;
      const parts = Array.isArray(data) ? data : [data];
      // Latin-1, as node:dns decodes TXT strings: every byte stays one character.
      return parts.map((part) => typeof part === "string" ? part : LATIN1.decode(part));
    }
    case "MX":
      return { exchange: record.data.exchange, priority: record.data.preference };
    default:
      return "data" in record ? record.data : undefined;
  }
}
