/**
 * The failed-login throttle every process on the database shares: the same rules as the in-memory
 * RateLimiter (rate_limiter.ts: free attempts, then a doubling delay, capped; counts expire; never a
 * permanent lock-out), kept in the store. With several serving processes (`postern serve --processes N`)
 * the kernel spreads an attacker's connections over them; counts in each process's memory would give
 * N times the attempts. A check is one indexed read, a failure one short write transaction: both happen
 * only when a password is actually verified (a verified header is cached), next to an Argon2 hash that
 * costs far more.
 */
import type { LoginThrottleStore } from "../store/mod.ts";
import {
  DEFAULT_RATE_LIMIT,
  failureDelay,
  type LoginThrottle,
  type RateLimitDecision,
  type RateLimitOptions,
  type RateLimitStats,
  resolveOptions,
} from "./rate_limiter.ts";

const ALLOWED: RateLimitDecision = Object.freeze({ allowed: true });

/** A {@link LoginThrottle} whose counts live in the database. */
export class SharedRateLimiter implements LoginThrottle {
  readonly #now: () => number;
  #options: RateLimitOptions;

  constructor(
    private readonly store: LoginThrottleStore,
    options: Partial<RateLimitOptions> & { now?: () => number } = {},
  ) {
    const { now, ...settings } = options;
    this.#now = now ?? Date.now;
    this.#options = resolveOptions(DEFAULT_RATE_LIMIT, settings);
  }

  /** Whether an attempt for `key` may proceed now, and if not, how long to wait. */
  async check(key: string): Promise<RateLimitDecision> {
    const entry = await this.store.get(key);
    const wait = entry === undefined ? 0 : entry.blockedUntil - this.#now();
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : ALLOWED;
  }

  /** Records a failed attempt for `key`, blocking it once the free attempts are used up. */
  async fail(key: string): Promise<void> {
    const options = this.#options;
    await this.store.fail(key, this.#now(), {
      windowMs: options.windowMs,
      maxKeys: options.maxKeys,
      delayFor: (count) =>
        count > options.freeAttempts ? failureDelay(options, count - options.freeAttempts) : 0,
    });
  }

  /** Changes settings at run time (this process's; each process applies the stored settings itself). */
  updateOptions(partial: Partial<RateLimitOptions>): void {
    this.#options = resolveOptions(this.#options, partial);
  }

  /** Tracked keys and how many of them are blocked right now, in every process. */
  stats(): Promise<RateLimitStats> {
    return this.store.stats(this.#now());
  }
}
