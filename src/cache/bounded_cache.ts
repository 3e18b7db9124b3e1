/**
 * A bounded LRU cache with TTLs and negative entries ("known not to exist"). Negative entries have their
 * own TTL because they are the riskier kind: a stale one makes a freshly created object invisible.
 *
 * A fill (read the database, then store the answer) can race an invalidation: the read happens before
 * a write commits, the write's invalidation runs, and only then is the stale answer stored, after
 * the deletion that should have dropped it. So a fill takes {@linkcode BoundedCache.epoch} before its
 * read and passes it to `set`/`setNegative`, which refuse to store an answer that an invalidation
 * applied in between would have removed.
 */

/** Settings that may change while the cache is in use. */
export interface BoundedCacheSettings {
  /** Entries kept before the least recently used is evicted; 0 disables the cache. */
  maxEntries: number;
  /** Lifetime of a positive entry; 0 disables positive caching. */
  ttlMs: number;
  /** Lifetime of a negative entry; 0 disables negative caching. */
  negativeTtlMs: number;
}

/** Options for {@linkcode BoundedCache}; `name` labels its metrics. */
export interface BoundedCacheOptions extends BoundedCacheSettings {
  name: string;
  now?: () => number;
}

/** The outcome of a lookup: a cached value, a cached absence, or nothing known. */
export type CacheLookup<V> =
  | { readonly status: "hit"; readonly value: V }
  | { readonly status: "negative" }
  | { readonly status: "miss" };

/** Counters exported as metrics; `invalidations` counts entries removed on purpose, not by eviction. */
export interface CacheStats {
  name: string;
  hits: number;
  misses: number;
  negativeHits: number;
  evictions: number;
  invalidations: number;
  size: number;
}

interface Entry<V> {
  value: V | undefined;
  negative: boolean;
  storedAt: number;
  /** When the entry last moved to the recent end; moved again at most once a second. */
  touchedAt: number;
  /** The hit result, built once so a hit allocates nothing. */
  hit: CacheLookup<V>;
}

/** Invalidations remembered for fills under way; a fill that started before the oldest is refused. */
const REMEMBERED_INVALIDATIONS = 64;

/** What one invalidation removed: entries whose key, value and kind match. */
type Removed<K, V> = (key: K, value: V | undefined, negative: boolean) => boolean;

/** Recency is refreshed at most this often per entry: an LRU to the second costs two Map writes less. */
const TOUCH_INTERVAL_MS = 1000;

// Shared results so the two value-less outcomes allocate nothing on the hot path.
const NEGATIVE: CacheLookup<never> = Object.freeze({ status: "negative" });
const MISS: CacheLookup<never> = Object.freeze({ status: "miss" });

/** An LRU cache by entry count, with separate TTLs for positive and negative entries. */
export class BoundedCache<K, V> {
  /** Label used in metrics. */
  readonly name: string;
  // Map iteration order is insertion order, so re-inserting on use keeps the least recent at the front.
  readonly #entries = new Map<K, Entry<V>>();
  readonly #now: () => number;
  #settings: BoundedCacheSettings;
  readonly #counts = { hits: 0, misses: 0, negativeHits: 0, evictions: 0, invalidations: 0 };
  /** Invalidations applied so far (whether or not they removed an entry). */
  #epoch = 0;
  /** The last invalidations, oldest first: the one at index i was number `#epoch - length + i + 1`. */
  readonly #recent: Removed<K, V>[] = [];

  constructor(options: BoundedCacheOptions) {
    this.name = options.name;
    this.#now = options.now ?? Date.now;
    this.#settings = resolveSettings(options.name, options, {});
  }

  /** Number of entries held, including expired ones not yet looked up. */
  get size(): number {
    return this.#entries.size;
  }

  /** Looks up `key`; an expired entry counts as a miss and is dropped. */
  get(key: K): CacheLookup<V> {
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#counts.misses++;
      return MISS;
    }
    // Age is checked against the current TTL, so lowering a TTL at run time applies to old entries too.
    const ttl = entry.negative ? this.#settings.negativeTtlMs : this.#settings.ttlMs;
    const now = this.#now();
    if (now - entry.storedAt >= ttl) {
      this.#entries.delete(key);
      this.#counts.misses++;
      return MISS;
    }
    if (now - entry.touchedAt >= TOUCH_INTERVAL_MS) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      entry.touchedAt = now;
    }
    if (entry.negative) {
      this.#counts.negativeHits++;
      return NEGATIVE;
    }
    this.#counts.hits++;
    return entry.hit;
  }

  /**
   * The invalidation epoch: take it before reading what a fill will store, and pass it to
   * {@linkcode set} or {@linkcode setNegative} with the answer.
   */
  epoch(): number {
    return this.#epoch;
  }

  /**
   * Stores a value, replacing any entry (positive or negative) for `key`. With `since` (an
   * {@linkcode epoch} taken before the value was read), nothing is stored when an invalidation applied
   * since then would have removed it; returns whether it was stored.
   */
  set(key: K, value: V, since?: number): boolean {
    if (since !== undefined && this.#invalidatedSince(since, key, value, false)) return false;
    this.#store(key, value, false);
    return true;
  }

  /** Records that `key` is known not to exist; `since` as for {@linkcode set}. */
  setNegative(key: K, since?: number): boolean {
    if (since !== undefined && this.#invalidatedSince(since, key, undefined, true)) return false;
    this.#store(key, undefined, true);
    return true;
  }

  /** Removes the entry for `key`; returns whether there was one. */
  delete(key: K): boolean {
    this.#invalidated((k) => k === key);
    const removed = this.#entries.delete(key);
    if (removed) this.#counts.invalidations++;
    return removed;
  }

  /** Removes every entry. */
  clear(): void {
    this.#invalidated(() => true);
    this.#counts.invalidations += this.#entries.size;
    this.#entries.clear();
  }

  /** Removes only negative entries, e.g. after a write that may have created any of the missing keys. */
  clearNegative(): void {
    this.deleteWhere((_key, _value, negative) => negative);
  }

  /** Removes entries matching `predicate` (`value` is undefined for a negative entry); returns the count. */
  deleteWhere(predicate: (key: K, value: V | undefined, negative: boolean) => boolean): number {
    this.#invalidated(predicate);
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (predicate(key, entry.value, entry.negative)) {
        this.#entries.delete(key);
        removed++;
      }
    }
    this.#counts.invalidations += removed;
    return removed;
  }

  /** Changes limits and TTLs at run time; a smaller `maxEntries` evicts at once. */
  updateOptions(partial: Partial<BoundedCacheSettings>): void {
    this.#settings = resolveSettings(this.name, this.#settings, partial);
    this.#evictOverflow();
  }

  /** A snapshot of the counters. */
  stats(): CacheStats {
    return { name: this.name, ...this.#counts, size: this.#entries.size };
  }

  #invalidated(removed: Removed<K, V>): void {
    this.#epoch++;
    this.#recent.push(removed);
    if (this.#recent.length > REMEMBERED_INVALIDATIONS) this.#recent.shift();
  }

  /** Whether an invalidation after epoch `since` would have removed this entry (or is forgotten). */
  #invalidatedSince(since: number, key: K, value: V | undefined, negative: boolean): boolean {
    const missed = this.#epoch - since;
    if (missed <= 0) return false;
    // Invalidations this old are no longer remembered: storing is refused, which is always safe.
    if (missed > this.#recent.length) return true;
    for (let i = this.#recent.length - missed; i < this.#recent.length; i++) {
      if (this.#recent[i](key, value, negative)) return true;
    }
    return false;
  }

  #store(key: K, value: V | undefined, negative: boolean): void {
    // Deleting first both refreshes recency and drops the old entry when caching of this kind is off.
    this.#entries.delete(key);
    const ttl = negative ? this.#settings.negativeTtlMs : this.#settings.ttlMs;
    if (ttl <= 0 || this.#settings.maxEntries === 0) return;
    const now = this.#now();
    const hit: CacheLookup<V> = negative ? NEGATIVE : Object.freeze({ status: "hit", value: value as V });
    this.#entries.set(key, { value, negative, storedAt: now, touchedAt: now, hit });
    this.#evictOverflow();
  }

  #evictOverflow(): void {
    while (this.#entries.size > this.#settings.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as K);
      this.#counts.evictions++;
    }
  }
}

// An explicit undefined keeps the current value, so settings objects with optional fields pass through.
function resolveSettings(
  name: string,
  base: BoundedCacheSettings,
  partial: Partial<BoundedCacheSettings>,
): BoundedCacheSettings {
  const maxEntries = partial.maxEntries ?? base.maxEntries;
  const ttlMs = partial.ttlMs ?? base.ttlMs;
  const negativeTtlMs = partial.negativeTtlMs ?? base.negativeTtlMs;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
    throw new RangeError(`Cannot configure cache "${name}": maxEntries ${maxEntries} is not a count`);
  }
  for (const [field, value] of [["ttlMs", ttlMs], ["negativeTtlMs", negativeTtlMs]] as const) {
    if (!(value >= 0)) {
      throw new RangeError(`Cannot configure cache "${name}": ${field} ${value} is not a duration`);
    }
  }
  return { maxEntries, ttlMs, negativeTtlMs };
}
