/**
 * The fuzz harness's seeded randomness: mulberry32 (a 32-bit generator small enough to write here, no
 * dependency), so a seed replays the same requests, and the value makers every surface draws from.
 */

/** A seeded source of random choices. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1) (mulberry32). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)];
  }

  /** A size, mostly small, sometimes up to `max` (log-uniform, so each order of magnitude gets its turn). */
  size(max: number): number {
    return Math.min(max, Math.floor(Math.exp(this.next() * Math.log(max + 1))));
  }

  /** A child generator for one request, so a request can be replayed from `--seed` and its index. */
  fork(): Random {
    return new Random(Math.floor(this.next() * 4294967296));
  }
}

/** Object.prototype's own names and the other keys that trip code looking up user-chosen keys. */
export const PROTOTYPE_NAMES = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "__defineGetter__",
  "__lookupGetter__",
] as const;

const ODD_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\r\n",
  "\u202e",
  "\u200b",
  "\ud800",
  "\udfff",
  "😀",
  "é",
  "Ω≈ç√∫",
  "../../etc/passwd",
  "%00",
  "%zz",
  "' OR 1=1 --",
  "<script>alert(1)</script>",
  "${x}",
  "null",
  "true",
  "-1",
  "1e309",
  "NaN",
  "*",
  "\\",
  '"',
  "/",
  "#",
  "#c1",
  "b",
  "zzzzzz",
  "2027-01-31T00:00:00Z",
  "9999-12-31T23:59:59Z",
  "urn:ietf:params:jmap:mail",
  "x@example.org",
];

/** A random string of an odd kind: empty, controls, surrogates, long, unicode, a prototype name. */
export function oddString(rng: Random, maxLength = 70_000): string {
  switch (rng.int(0, 6)) {
    case 0:
      return rng.pick(ODD_STRINGS);
    case 1:
      return rng.pick(PROTOTYPE_NAMES);
    case 2:
      return rng.pick(ODD_STRINGS).repeat(rng.size(Math.max(1, Math.floor(maxLength / 8))));
    case 3:
      return "x".repeat(rng.size(maxLength));
    case 4: {
      let out = "";
      const length = rng.size(64);
      for (let i = 0; i < length; i++) out += String.fromCharCode(rng.int(0, 0xffff));
      return out;
    }
    case 5: {
      let out = "";
      const length = rng.size(40);
      for (let i = 0; i < length; i++) out += String.fromCharCode(rng.int(0x20, 0x7e));
      return out;
    }
    default:
      return rng.pick(["a", "b", "c", "d", "e", "z", "0", "1"]) + rng.int(0, 100);
  }
}

const ODD_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  -1.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  1e21,
  255,
  256,
  65536,
  100,
  10_000,
];

/** A number at an edge: zero, negative, fractional, past 2^53, huge. */
export function oddNumber(rng: Random): number {
  return rng.chance(0.8) ? rng.pick(ODD_NUMBERS) : rng.int(-1000, 1_000_000);
}

/** Nested arrays or objects `depth` levels deep around `inner`. */
export function nested(rng: Random, depth: number, inner: unknown = 1): unknown {
  let value = inner;
  const asArray = rng.chance(0.5);
  for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value };
  return value;
}

/** Any JSON value, of an odd kind. */
export function oddValue(rng: Random): unknown {
  switch (rng.int(0, 9)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
    case 3:
      return oddNumber(rng);
    case 4:
    case 5:
      return oddString(rng);
    case 6:
      return [];
    case 7:
      return {};
    case 8:
      return rng.chance(0.3)
        ? nested(rng, rng.pick([10, 126, 127, 128, 129, 200, 1000]))
        : [oddString(rng, 100)];
    default:
      return Array.from({ length: rng.size(2000) }, () => rng.pick(["b", "c", 1, null, "zz"]));
  }
}
