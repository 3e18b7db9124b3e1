/**
 * Full-text words looked up as the tokens they stand for, so that FTS5 streams a query's matches in
 * rowid order and stops at the window instead of merging whole lists first.
 *
 * Every word of Email/query "starts a token" (`"word"*`). FTS5 answers a prefix by merging the full
 * list of every token that starts with it into one buffer before it yields a row, rowid bounds and
 * LIMIT notwithstanding; the prefix index (`prefix = '3'`, migration 049) spares that only for words
 * of three letters. For a longer word the merge read every row of every such token: 5–13 ms for a
 * common word at 100,000 messages, whatever the window (scripts/bench/text_plan.ts).
 *
 * The same rows are those of the tokens themselves, OR-ed: `"word" OR "words" OR …`, which FTS5 reads
 * lazily. The tokens come from the index's own vocabulary (an fts5vocab table), read in the same
 * snapshot as the query, and only over the range of terms that extend the word: fts5vocab counts
 * every row of each term it passes, so the range starts after the word itself (whose list may be the
 * longest) and ends before any neighbour. A word with more extensions than {@link MAX_EXTENSIONS},
 * or one the index might fold otherwise than its lower case (anything but ASCII letters and digits),
 * keeps its prefix form, so the matches are always exactly the prefix's.
 */
import type { Db } from "./db.ts";

/** The most longer tokens a word is expanded into; past that the prefix query reads them all anyway. */
export const MAX_EXTENSIONS = 16;

/** The shortest word expanded: a word of three letters reads the prefix index, one list. */
const MIN_LENGTH = 4;

/** The vocabulary of the full-text index, one row per term, on each connection's temporary schema. */
const VOCABULARY = "temp.email_search_terms";

/** Connections on which the vocabulary table exists (true) or cannot be made (false). */
const vocabularies = new WeakMap<Db, boolean>();

const ASCII_WORD = /^[A-Za-z0-9]+$/;
const ASCII_TOKEN = /^[a-z0-9]+$/;

/** The vocabulary table of this connection; false when it cannot be made (then words stay prefixes). */
function hasVocabulary(db: Db): boolean {
  let made = vocabularies.get(db);
  if (made === undefined) {
    try {
      db.raw.exec(
        `CREATE VIRTUAL TABLE IF NOT EXISTS ${VOCABULARY} USING fts5vocab(main, email_search, 'row')`,
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

/**
 * The FTS5 expression of one word that starts a token: the tokens that extend it OR-ed with the word
 * itself, or the prefix query when that cannot be done exactly and cheaply.
 */
export function wordExpression(db: Db, word: string): string {
  const prefix = `${quoted(word)}*`;
  if (word.length < MIN_LENGTH || !ASCII_WORD.test(word) || !hasVocabulary(db)) return prefix;
  // unicode61 keeps ASCII letters and digits as they are, lower-cased: the word's own token.
  const token = word.toLowerCase();
  const bytes = new TextEncoder().encode(token);
  // Terms compare as bytes: every longer term starting with the token is above token + 0x01 and
  // below token + 0xFF (no UTF-8 byte is 0xFF).
  const upper = new Uint8Array(bytes.length + 1);
  upper.set(bytes);
  upper[bytes.length] = 0xff;
  const extensions = db.all<{ term: string }>(
    `SELECT term FROM ${VOCABULARY} WHERE term >= ? AND term <= CAST(? AS TEXT) LIMIT ${MAX_EXTENSIONS + 1}`,
    `${token}\u0001`,
    upper,
  ).map((row) => String(row.term));
  if (extensions.length > MAX_EXTENSIONS) return prefix;
  if (extensions.some((term) => !term.startsWith(token) || !ASCII_TOKEN.test(term))) return prefix;
  if (extensions.length === 0) return quoted(token);
  return `(${[token, ...extensions].map(quoted).join(" OR ")})`;
}

/** An FTS5 expression that every word starts a token of the row (the words AND-ed). */
export function wordsExpression(db: Db, words: readonly string[]): string {
  return words.map((word) => wordExpression(db, word)).join(" AND ");
}
