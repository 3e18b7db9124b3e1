/**
 * Full-text words looked up through the tokens they stand for, so that FTS5 streams a query's matches
 * in rowid order and stops at the window instead of merging whole lists first.
 *
 * Every word of Email/query "starts a token" (`"word"*`). FTS5 answers a prefix by merging the full
 * list of every token that starts with it into one buffer before it yields a row, rowid bounds and
 * LIMIT notwithstanding; the prefix index (`prefix = '3'`, migration 049) spares that only for words
 * of three letters. At 100,000 messages the merge cost 6 ms for a common word of four letters or more
 * and 6–24 ms for one of two letters ("in", "is", "on"), whatever the window
 * (scripts/bench/text_plan.ts).
 *
 * The same rows are those of the tokens that extend the word, OR-ed, each read lazily: for a word of
 * four letters or more each such token itself (`"with" OR "within"`); for a shorter one the word's
 * own token and each three-letter prefix that extends it, which the prefix index reads as one list
 * (`"is" OR "ish"*`). They come from the index's own vocabulary (an fts5vocab table of instances,
 * which finds the first term of a range without reading its rows), read in the same snapshot as the
 * query, one lookup per part. A word that would take more than {@link MAX_PARTS} parts, or that the
 * index might fold otherwise than its lower case (anything but ASCII letters and digits, in the word
 * or in a token read), keeps its prefix form: the matches are always exactly the prefix's.
 */
import type { Db } from "./db.ts";

/** The most parts (tokens or three-letter prefixes) a word is looked up as; past that, the prefix. */
export const MAX_PARTS = 16;

/** The length of the index's prefix index (src/store/migrations/049_search_prefix.ts). */
const PREFIX_INDEX = 3;

/** The vocabulary of the full-text index, on each connection's temporary schema. */
const VOCABULARY = "temp.email_search_terms";

/** Connections on which the vocabulary table exists (true) or cannot be made (false). */
const vocabularies = new WeakMap<Db, boolean>();

const ASCII_WORD = /^[A-Za-z0-9]+$/;
const ASCII_TOKEN = /^[a-z0-9]+$/;
const encoder = new TextEncoder();

/** The vocabulary table of this connection; false when it cannot be made (then words stay prefixes). */
function hasVocabulary(db: Db): boolean {
  let made = vocabularies.get(db);
  if (made === undefined) {
    try {
      db.raw.exec(
        `CREATE VIRTUAL TABLE IF NOT EXISTS ${VOCABULARY} USING fts5vocab(main, email_search, 'instance')`,
      );
      made = true;
    } catch {
      made = false;
    }
    vocabularies.set(db, made);
  }
  return made;
}

/** A word as an FTS5 string (quoted, `"` doubled: no text of the user is ever syntax). */
function quoted(word: string): string {
  return `"${word.replaceAll('"', '""')}"`;
}

/** The bytes of `text` followed by one more byte (terms compare as bytes; no UTF-8 byte is 0xFF). */
function followedBy(text: string, byte: number): Uint8Array {
  const bytes = encoder.encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = byte;
  return out;
}

/**
 * The first term of the vocabulary from `from` to `upper`; null when the vocabulary cannot be read. A
 * table made inside a transaction that rolled back is gone: it is made again at the next word.
 */
function firstTerm(db: Db, from: Uint8Array, upper: Uint8Array): { term: string } | undefined | null {
  try {
    return db.get<{ term: string }>(
      `SELECT term FROM ${VOCABULARY} WHERE term >= CAST(? AS TEXT) AND term <= CAST(? AS TEXT) LIMIT 1`,
      from,
      upper,
    );
  } catch {
    vocabularies.delete(db);
    return null;
  }
}

/**
 * The FTS5 expression of one word that starts a token: the parts that make up its prefix, OR-ed, or
 * the prefix itself when that cannot be done exactly and cheaply.
 */
export function wordExpression(db: Db, word: string): string {
  const prefix = `${quoted(word)}*`;
  if (word.length === PREFIX_INDEX || !ASCII_WORD.test(word) || !hasVocabulary(db)) return prefix;
  // unicode61 keeps ASCII letters and digits as they are, lower-cased: the word's own token.
  const token = word.toLowerCase();
  const parts = [quoted(token)];
  // Every longer term that starts with the token lies between token + 0x01 and token + 0xFF.
  const upper = followedBy(token, 0xff);
  let from = followedBy(token, 0x01);
  for (;;) {
    const row = firstTerm(db, from, upper);
    if (row === null) return prefix;
    if (row === undefined) break;
    const term = String(row.term);
    if (parts.length === MAX_PARTS || !term.startsWith(token)) return prefix;
    if (term.length >= PREFIX_INDEX && token.length < PREFIX_INDEX) {
      // Every term under this three-letter prefix at once; the next lookup starts past them.
      const three = term.slice(0, PREFIX_INDEX);
      if (!ASCII_TOKEN.test(three)) return prefix;
      parts.push(`${quoted(three)}*`);
      from = followedBy(three, 0xff);
    } else {
      if (!ASCII_TOKEN.test(term)) return prefix;
      parts.push(quoted(term));
      from = followedBy(term, 0x01);
    }
  }
  return parts.length === 1 ? parts[0] : `(${parts.join(" OR ")})`;
}

/** An FTS5 expression that every word starts a token of the row (the words AND-ed). */
export function wordsExpression(db: Db, words: readonly string[]): string {
  return words.map((word) => wordExpression(db, word)).join(" AND ");
}
