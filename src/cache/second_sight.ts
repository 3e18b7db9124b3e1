/**
 * Which keys were looked up once already, so a cache stores an answer only when its key comes back:
 * a fresh refresh token per request (each sent once), or the new family behind it, would otherwise
 * fill a 50,000-entry cache with entries never read again, each evicting one that might be, and keep
 * them all alive for the garbage collector to walk. A key's first sight is remembered as a small
 * number (28 bits of a hash), not as the key: no object per key, nothing for the collector. Two keys
 * sharing those bits only make one of them cached a sight early, which is what a cache does anyway.
 * Bounded: past `maxKeys` the memory starts over (a key seen once long ago waits for one more sight).
 */
export class SecondSight {
  readonly #seen = new Set<number>();

  constructor(private readonly maxKeys: number) {}

  /**
   * Whether `key` (its 28-bit `hash`) was seen before; remembers it when not. Caches call it once a
   * lookup missed, and store the answer only when it says true.
   */
  again(hash: number): boolean {
    const small = hash & 0xfffffff;
    if (this.#seen.delete(small)) return true;
    if (this.#seen.size >= this.maxKeys) this.#seen.clear();
    this.#seen.add(small);
    return false;
  }

  /** Forgets every key (the caches it guards were cleared). */
  clear(): void {
    this.#seen.clear();
  }
}

/** A 28-bit hash of a hex digest (its first seven digits): the digest is already uniform. */
export function hexHash(hex: string): number {
  return parseInt(hex.slice(0, 7), 16);
}
