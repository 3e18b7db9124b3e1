import type { Account, InvalidationEvent } from "../model/types.ts";
import { BoundedCache, type CacheStats } from "./bounded_cache.ts";

/** What a verified `Authorization` header resolved to. */
export interface VerifiedCredential {
  accountId: number;
  method: "password" | "appPassword" | "apiKey" | "accessToken";
  credentialId: number | null;
  /** After this time (ms) the credential itself expires, whatever the cache TTL. */
  expiresAt: number | null;
  /** Scopes of an access token (absent: every right of the account). */
  scopes?: readonly string[];
  /** The client an access token was issued to. */
  clientId?: string;
}

/** Sizes and lifetimes, from the Cache settings object. */
export interface DirectoryCacheSettings {
  maxEntries: number;
  ttlSeconds: number;
  negativeTtlSeconds: number;
  authTtlSeconds: number;
}

/** Where other processes' invalidations are read from (the store's invalidation log). */
export interface InvalidationSource {
  dataVersion(): number;
  /** A cheap value that changes with every commit of any connection; undefined when unavailable. */
  changeSignal?(): number | undefined;
  since(afterId: number): { lastId: number; events: InvalidationEvent[]; gap?: boolean };
  lastId(): number;
}

/**
 * The directory's cache namespaces and the one place that turns invalidation events into cache
 * deletions, whether the event was emitted here or read from another process's log.
 */
export class DirectoryCaches {
  readonly accountById: BoundedCache<number, Account>;
  /** Login key (bare name or address, lower case) → account id; negative entries for unknown logins. */
  readonly accountByLogin: BoundedCache<string, number>;
  /** Hash of an Authorization header → what it proved. Never the header itself. */
  readonly authHeaders: BoundedCache<string, VerifiedCredential>;
  #dataVersion: number;
  #lastInvalidationId: number;
  #remoteApplied = 0;
  #signal: number | undefined;
  #fullCheckDue = true;
  readonly #fullCheckTimer: ReturnType<typeof setInterval>;
  #listeners: ((event: InvalidationEvent) => void | Promise<void>)[] = [];

  constructor(settings: DirectoryCacheSettings, private readonly source: InvalidationSource) {
    const ms = (s: number) => s * 1000;
    this.accountById = new BoundedCache({
      name: "account_by_id",
      maxEntries: settings.maxEntries,
      ttlMs: ms(settings.ttlSeconds),
      negativeTtlMs: ms(settings.negativeTtlSeconds),
    });
    this.accountByLogin = new BoundedCache({
      name: "account_by_login",
      maxEntries: settings.maxEntries,
      ttlMs: ms(settings.ttlSeconds),
      negativeTtlMs: ms(settings.negativeTtlSeconds),
    });
    this.authHeaders = new BoundedCache({
      name: "auth_headers",
      maxEntries: settings.maxEntries,
      ttlMs: ms(settings.authTtlSeconds),
      negativeTtlMs: 0,
    });
    this.#dataVersion = source.dataVersion();
    this.#lastInvalidationId = source.lastId();
    // A timer, not a clock read per request, schedules the periodic full check; it never keeps the
    // process alive.
    this.#fullCheckTimer = setInterval(() => this.#fullCheckDue = true, 250);
    Deno.unrefTimer(this.#fullCheckTimer);
  }

  /**
   * The current credential generation (the verified-header cache's epoch): take it before reading a
   * credential, and hand it to {@linkcode cacheVerified} with the result.
   */
  credentialGeneration(): number {
    return this.authHeaders.epoch();
  }

  /**
   * Caches what a header proved, unless an invalidation applied after `generation` (when the
   * verification started) dropped that account's or token family's headers: a verification that raced
   * a password change, a disable or a revocation would otherwise be cached after the invalidation that
   * should have dropped it. Returns whether it was cached.
   */
  cacheVerified(key: string, credential: VerifiedCredential, generation: number): boolean {
    return this.authHeaders.set(key, credential, generation);
  }

  /** Calls `listener` for every applied event (local or remote), e.g. to reload settings. */
  onInvalidation(listener: (event: InvalidationEvent) => void | Promise<void>): void {
    this.#listeners.push(listener);
  }

  /**
   * Makes the caches coherent with every commit of other connections: one `PRAGMA data_version`
   * call, and only when it moved, the new rows of the invalidation log. Call before trusting a cache.
   */
  sync(): Promise<void> | undefined {
    // The change signal moves on every commit of any connection and costs next to nothing: when it
    // has not moved, nothing was committed since the last check. A full check at least every 250 ms
    // still covers what the signal cannot see (a -shm file replaced behind SQLite's back).
    const signal = this.source.changeSignal?.();
    if (signal !== undefined && signal === this.#signal && !this.#fullCheckDue) return undefined;
    this.#signal = signal;
    this.#fullCheckDue = false;
    const version = this.source.dataVersion();
    if (version === this.#dataVersion) return undefined;
    this.#dataVersion = version;
    const { lastId, events, gap } = this.source.since(this.#lastInvalidationId);
    this.#lastInvalidationId = lastId;
    this.#remoteApplied += events.length;
    // Rows this process never read were pruned: what they said is unknown, so forget everything.
    const pending: Promise<void>[] = [];
    for (const event of gap ? [{ kind: "all" } as const, ...events] : events) {
      const applied = this.apply(event);
      if (applied) pending.push(applied);
    }
    // Listeners that reload settings finish before the request that noticed the change goes on.
    return pending.length ? Promise.all(pending).then(() => undefined) : undefined;
  }

  /**
   * Applies one invalidation event to every namespace it concerns; returns a promise when a listener
   * (a settings reload) has asynchronous work left.
   */
  apply(event: InvalidationEvent): Promise<void> | undefined {
    switch (event.kind) {
      case "account":
        this.accountById.delete(event.accountId);
        for (const key of event.keys) this.accountByLogin.delete(key.toLowerCase());
        this.authHeaders.deleteWhere((_, value) => value?.accountId === event.accountId);
        break;
      case "credentials":
        this.authHeaders.deleteWhere((_, value) => value?.accountId === event.accountId);
        break;
      case "domain":
        // A domain rename or removal changes addresses of many accounts at once.
        this.accountById.clear();
        this.accountByLogin.clear();
        break;
      case "negative":
        this.accountById.clearNegative();
        this.accountByLogin.clearNegative();
        break;
      case "all":
        this.accountById.clear();
        this.accountByLogin.clear();
        this.authHeaders.clear();
        break;
      case "oauthGrant":
        this.authHeaders.deleteWhere((_, value) =>
          value?.method === "accessToken" && value.credentialId === event.grantId
        );
        break;
      case "oauthClient":
        this.authHeaders.deleteWhere((_, value) => value?.method === "accessToken");
        break;
      case "settings":
        // A new token key (OidcProvider) revokes every token at once.
        if (event.name === "OidcProvider") {
          this.authHeaders.deleteWhere((_, value) => value?.method === "accessToken");
        }
        break;
    }
    let pending: Promise<void>[] | undefined;
    for (const listener of this.#listeners) {
      const result = listener(event);
      if (result) (pending ??= []).push(result);
    }
    return pending && Promise.all(pending).then(() => undefined);
  }

  /** Applies new sizes and lifetimes to every namespace. */
  updateSettings(settings: DirectoryCacheSettings): void {
    const base = { maxEntries: settings.maxEntries, negativeTtlMs: settings.negativeTtlSeconds * 1000 };
    this.accountById.updateOptions({ ...base, ttlMs: settings.ttlSeconds * 1000 });
    this.accountByLogin.updateOptions({ ...base, ttlMs: settings.ttlSeconds * 1000 });
    this.authHeaders.updateOptions({
      maxEntries: settings.maxEntries,
      ttlMs: settings.authTtlSeconds * 1000,
    });
  }

  /** Stops the periodic full check. */
  close(): void {
    clearInterval(this.#fullCheckTimer);
  }

  /** Counters of every namespace plus how many events came from other processes. */
  stats(): { namespaces: CacheStats[]; remoteInvalidations: number } {
    return {
      namespaces: [this.accountById.stats(), this.accountByLogin.stats(), this.authHeaders.stats()],
      remoteInvalidations: this.#remoteApplied,
    };
  }
}
