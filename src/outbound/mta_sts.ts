/**
 * Recipient domains' MTA-STS policies (RFC 8461), as the transport asks for them:
 *
 * 1. Ask for the `_mta-sts.DOMAIN` TXT record (through the server's resolver) on every call.
 * 2. A cached policy still within its max_age and of the same id is the answer.
 * 3. Otherwise (a new id, or the cached one ran out) fetch and parse the policy, cache it, answer it.
 * 4. What cannot be fetched or parsed, and a TXT record that is missing or unreadable, never
 *    replaces a cached policy still within its max_age: that one applies (§3.3, §5.1). With none,
 *    the domain has no policy (null).
 *
 * The cache is in the database (store/mta_sts.ts), so every process shares it and a restart keeps
 * it. Concurrent asks for one domain in this process share one look-up.
 */
import { getLogger } from "@logtape/logtape";
import type { CachedMtaStsPolicy, MtaStsRepository } from "../store/mod.ts";
import type { MtaStsPolicy, MtaStsSource, TlsReporter } from "./types.ts";
import type { PolicyFetcher } from "./mta_sts_fetch.ts";
import { MtaStsError, parsePolicy, parseStsTxt } from "./mta_sts_policy.ts";

const log = getLogger(["postern", "outbound", "mta-sts"]);

/** What the policy source uses. */
export interface MtaStsCacheDeps {
  /** TXT look-ups: the server's DnsResolver. */
  resolver: { resolveTxt(name: string): Promise<string[]> };
  /** Fetches a policy text (mta_sts_fetch.ts `httpsPolicyFetcher`). */
  fetch: PolicyFetcher;
  store: Pick<MtaStsRepository, "policy" | "savePolicy" | "deleteExpiredPolicies">;
  /** Where a policy that could not be fetched or was invalid is reported (RFC 8460 §4.3). */
  reporter?: TlsReporter;
  /** The clock, in milliseconds (tests move it). */
  now?: () => number;
}

/** The MtaStsSource of the server: DNS, HTTPS and a cache in the database. */
export class MtaStsCache implements MtaStsSource {
  readonly #deps: MtaStsCacheDeps;
  readonly #inFlight = new Map<string, Promise<MtaStsPolicy | null>>();

  constructor(deps: MtaStsCacheDeps) {
    this.#deps = deps;
  }

  /** The policy that applies to mail for `domain` now, or null when it has none. */
  policyFor(domain: string): Promise<MtaStsPolicy | null> {
    const name = domain.toLowerCase().replace(/\.$/, "");
    let pending = this.#inFlight.get(name);
    if (!pending) {
      pending = this.#lookUp(name).finally(() => this.#inFlight.delete(name));
      this.#inFlight.set(name, pending);
    }
    return pending;
  }

  /**
   * Forgets policies that ran out more than a day ago (an expired policy never applies; the row is
   * only kept a while for TLS reports of the day); how many went. Servers call it daily.
   */
  prune(): Promise<number> {
    return this.#deps.store.deleteExpiredPolicies((this.#deps.now ?? Date.now)() - 86_400_000);
  }

  async #lookUp(domain: string): Promise<MtaStsPolicy | null> {
    const now = (this.#deps.now ?? Date.now)();
    const cached = await this.#deps.store.policy(domain);
    const valid = cached && now < cached.fetchedAt + cached.maxAge * 1000 ? toPolicy(cached) : null;
    const id = await this.#currentId(domain);
    if (id === null) return valid;
    if (valid && valid.id === id) return valid;
    try {
      const policy = parsePolicy(await this.#deps.fetch(domain), id);
      await this.#deps.store.savePolicy({ domain, ...policy, fetchedAt: now });
      return policy;
    } catch (error) {
      const type = error instanceof MtaStsError ? error.type : "sts-policy-fetch-error";
      log.warn("MTA-STS policy of {domain} not updated ({type}): {reason}; {kept}", {
        domain,
        type,
        reason: error instanceof Error ? error.message : String(error),
        kept: valid ? `the cached policy ${valid.id} applies until it expires` : "no policy applies",
      });
      this.#deps.reporter?.record({ domain, mx: "", policy: "sts", failure: type });
      return valid;
    }
  }

  /** The id of the domain's TXT record, or null when there is none or it cannot be read now. */
  async #currentId(domain: string): Promise<string | null> {
    let records: string[];
    try {
      records = await this.#deps.resolver.resolveTxt(`_mta-sts.${domain}`);
    } catch {
      // No record, or the resolver cannot tell now: both mean "no live policy" (§3.3).
      return null;
    }
    try {
      return parseStsTxt(records);
    } catch (error) {
      log.warn("MTA-STS TXT record of {domain} is invalid: {reason}", {
        domain,
        reason: (error as Error).message,
      });
      return null;
    }
  }
}

function toPolicy(cached: CachedMtaStsPolicy): MtaStsPolicy {
  return { id: cached.id, mode: cached.mode, mx: cached.mx, maxAge: cached.maxAge };
}
