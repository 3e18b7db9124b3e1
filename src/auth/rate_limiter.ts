/**
 * Throttling of failed logins with exponential backoff. There is deliberately no permanent lock-out: it
 * would let anyone who knows a login name lock its owner out. The delay is capped and the count expires.
 */

/** Throttling settings; durations in milliseconds. */
export interface RateLimitOptions {
  /** Failures within the window that impose no delay. */
  freeAttempts: number;
  /** A key's failure count resets once this long has passed since its first failure. */
  windowMs: number;
  /** Delay after the first failure beyond the free ones; each further failure doubles it. */
  baseDelayMs: number;
  /** Upper bound on any single delay. */
  maxDelayMs: number;
  /** Keys tracked at most; the least recently failed are dropped first. */
  maxKeys: number;
}

/** Defaults: five free attempts per 15 minutes, then 1 s, 2 s, 4 s… up to 15 minutes. */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = {
  freeAttempts: 5,
  windowMs: 15 * 60_000,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  maxKeys: 100_000,
};

/** The answer of {@linkcode RateLimiter.check}. */
export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** Counters exported as metrics. */
export interface RateLimitStats {
  trackedKeys: number;
  blocked: number;
}

interface Failures {
  count: number;
  firstAt: number;
  blockedUntil: number;
}

const ALLOWED: RateLimitDecision = Object.freeze({ allowed: true });

/**
 * What the authenticator asks of a throttle: this in-memory one, or the one every process on the
 * database shares (shared_rate_limiter.ts).
 */
export interface LoginThrottle {
  /** Whether an attempt for `key` may proceed now, and if not, how long to wait. */
  check(key: string): RateLimitDecision | Promise<RateLimitDecision>;
  /** Records a failed attempt for `key`, blocking it once the free attempts are used up. */
  fail(key: string): void | Promise<void>;
  /** Changes settings at run time. */
  updateOptions(partial: Partial<RateLimitOptions>): void;
  /** Tracked keys and how many of them are blocked right now. */
  stats(): RateLimitStats | Promise<RateLimitStats>;
}

/** The delay a key's `over`-th failure beyond the free ones imposes. */
export function failureDelay(options: RateLimitOptions, over: number): number {
  // The exponent is capped so a zero base never meets an infinite factor (0 * Infinity is NaN).
  const factor = 2 ** Math.min(over - 1, 52);
  return Math.min(options.maxDelayMs, options.baseDelayMs * factor);
}

/** Counts failed attempts per key (e.g. `ip:<address>`, `account:<login>`) and says when to refuse. */
export class RateLimiter implements LoginThrottle {
  // Re-inserted on every failure, so iteration order is least recently failed first: the eviction order.
  readonly #keys = new Map<string, Failures>();
  readonly #now: () => number;
  #options: RateLimitOptions;

  constructor(options: Partial<RateLimitOptions> & { now?: () => number } = {}) {
    const { now, ...settings } = options;
    this.#now = now ?? Date.now;
    this.#options = resolveOptions(DEFAULT_RATE_LIMIT, settings);
  }

  /** Whether an attempt for `key` may proceed now, and if not, how long to wait. */
  check(key: string): RateLimitDecision {
    const now = this.#now();
    const entry = this.#live(key, now);
    if (entry === undefined) return ALLOWED;
    const wait = entry.blockedUntil - now;
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : ALLOWED;
  }

  /** Records a failed attempt for `key`, blocking it once the free attempts are used up. */
  fail(key: string): void {
    const now = this.#now();
    const entry = this.#live(key, now) ?? { count: 0, firstAt: now, blockedUntil: 0 };
    entry.count++;
    const over = entry.count - this.#options.freeAttempts;
    if (over > 0) entry.blockedUntil = now + this.#delay(over);
    this.#keys.delete(key);
    this.#keys.set(key, entry);
    this.#trim(now);
  }

  /** Forgets `key` after a successful attempt. */
  succeed(key: string): void {
    this.#keys.delete(key);
  }

  /** Changes settings at run time; they apply to the next decision, and a smaller `maxKeys` trims at once. */
  updateOptions(partial: Partial<RateLimitOptions>): void {
    this.#options = resolveOptions(this.#options, partial);
    this.#trim(this.#now());
  }

  /** Tracked keys and how many of them are blocked right now. */
  stats(): RateLimitStats {
    const now = this.#now();
    let blocked = 0;
    for (const entry of this.#keys.values()) if (entry.blockedUntil > now) blocked++;
    return { trackedKeys: this.#keys.size, blocked };
  }

  #delay(over: number): number {
    return failureDelay(this.#options, over);
  }

  /** The key's failures, or undefined (and forgotten) once they no longer count. */
  #live(key: string, now: number): Failures | undefined {
    const entry = this.#keys.get(key);
    if (entry === undefined || !this.#expired(entry, now)) return entry;
    this.#keys.delete(key);
    return undefined;
  }

  // A block already announced through retryAfterMs is honoured to its end even if the window closes first.
  #expired(entry: Failures, now: number): boolean {
    return now - entry.firstAt >= this.#options.windowMs && now >= entry.blockedUntil;
  }

  #trim(now: number): void {
    // Expired keys mostly gather at the front, so dropping them there keeps memory near the live set for free.
    for (const [key, entry] of this.#keys) {
      if (this.#keys.size <= this.#options.maxKeys && !this.#expired(entry, now)) break;
      this.#keys.delete(key);
    }
  }
}

// An explicit undefined keeps the current value, so settings objects with optional fields pass through.
export function resolveOptions(base: RateLimitOptions, partial: Partial<RateLimitOptions>): RateLimitOptions {
  const resolved = { ...base };
  for (const field of Object.keys(base) as (keyof RateLimitOptions)[]) {
    const value = partial[field] ?? base[field];
    const whole = field === "freeAttempts" || field === "maxKeys";
    if (!(value >= (field === "maxKeys" ? 1 : 0)) || (whole && !Number.isSafeInteger(value))) {
      throw new RangeError(`Cannot configure the rate limiter: ${field} ${value} is out of range`);
    }
    resolved[field] = value;
  }
  return resolved;
}
