/**
 * The words of a search, split exactly where the full-text index splits text: SQLite FTS5's
 * `unicode61 remove_diacritics 2` tokenizer (src/store/migrations/020_contentless_search.ts). A token
 * is a run of the characters that tokenizer keeps together (letters, digits, private use, the
 * diacritics it folds away); everything else, `_ - . @ " * ( ) :` among them, separates tokens.
 * Email/query looks up these words and SearchSnippet marks them, so a search word is always one
 * token of the index: never a phrase (which the index, kept with `detail=column`, refuses) and never
 * FTS5 syntax.
 */
import { UNICODE61_FOLDED_AWAY, UNICODE61_TOKEN_RANGES } from "./unicode61_table.ts";

/**
 * Words of one text condition that are looked for at most: the rest of a longer text is ignored (a
 * condition matches more, never fails), so one condition costs at most this many index lookups.
 */
export const MAX_SEARCH_WORDS = 32;

/** Sorted [first, last] code point ranges of a table of unicode61_table.ts. */
function decode(table: string): [number, number][] {
  const ranges: [number, number][] = [];
  let at = 0;
  for (const entry of table.split(";")) {
    if (!entry) continue;
    const [gap, length] = entry.split(",").map((n) => parseInt(n, 36));
    ranges.push([at + gap, at + gap + length - 1]);
    at += gap + length;
  }
  return ranges;
}

const RANGES = decode(UNICODE61_TOKEN_RANGES);
const FOLDED_AWAY = decode(UNICODE61_FOLDED_AWAY);

/** The Basic Multilingual Plane (most text) looked up in one step. */
const BMP = new Uint8Array(0x10000);
for (const [first, last] of RANGES) {
  for (let cp = first; cp <= Math.min(last, 0xffff); cp++) BMP[cp] = 1;
}

/** Whether SQLite's unicode61 tokenizer takes this code point as part of a token. */
export function isTokenChar(cp: number): boolean {
  if (cp < 0x10000) return BMP[cp] === 1;
  let low = 0;
  let high = RANGES.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const [first, last] = RANGES[middle];
    if (cp < first) high = middle - 1;
    else if (cp > last) low = middle + 1;
    else return true;
  }
  return false;
}

/** Whether the index folds this token character to nothing (a diacritic it removes). */
export function isFoldedAway(cp: number): boolean {
  return FOLDED_AWAY.some(([first, last]) => cp >= first && cp <= last);
}

/** Whether a run of token characters folds to nothing: then the index makes no token of it. */
function foldsToNothing(run: string): boolean {
  for (const char of run) if (!isFoldedAway(char.codePointAt(0)!)) return false;
  return true;
}

/** Where each token of `text` starts and ends (UTF-16 offsets), in order. */
export function* tokenSpans(text: string): Generator<{ start: number; end: number }> {
  let start = -1;
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (isTokenChar(cp)) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (!foldsToNothing(text.slice(start, i))) yield { start, end: i };
      start = -1;
    }
    i += width;
  }
  if (start >= 0 && !foldsToNothing(text.slice(start))) yield { start, end: text.length };
}

/**
 * The search words of a condition's text, as the index splits it (at most {@link MAX_SEARCH_WORDS},
 * duplicates kept once); none when the text has no token (only punctuation or spaces).
 */
export function searchWords(text: string): string[] {
  const words = new Set<string>();
  // The text as given, not normalized: the index folds each word as it folds the messages' text.
  for (const { start, end } of tokenSpans(text)) {
    words.add(text.slice(start, end));
    if (words.size === MAX_SEARCH_WORDS) break;
  }
  return [...words];
}
