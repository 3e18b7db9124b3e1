/**
 * String ids on the wire are derived from the store's integer ids with the base-32 alphabet Stalwart
 * uses for JMAP ids, so the first domain is "b" exactly as in Stalwart's own examples.
 */
const ALPHABET = "abcdefghijklmnopqrstuvwxyz792013";
const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));

/** Encodes a positive integer id as its wire string. */
export function encodeId(id: number): string {
  // Ten characters of five bits each: every id encodes to at most ten, so decodeId reads all back.
  if (!Number.isSafeInteger(id) || id < 0 || id >= 2 ** 50) throw new RangeError(`Cannot encode id ${id}`);
  let out = "";
  do {
    out = ALPHABET[id % 32] + out;
    id = Math.floor(id / 32);
  } while (id > 0);
  return out;
}

/** Decodes a wire id; returns undefined for anything that is not a well-formed id. */
export function decodeId(text: string): number | undefined {
  if (typeof text !== "string" || text.length === 0 || text.length > 10) return undefined;
  let id = 0;
  for (const c of text) {
    const v = VALUE.get(c);
    if (v === undefined) return undefined;
    id = id * 32 + v;
  }
  // Reject non-canonical forms such as "ab" (leading zero digit) so each id has exactly one spelling.
  return encodeId(id) === text ? id : undefined;
}
