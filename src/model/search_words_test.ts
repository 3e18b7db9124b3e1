import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { isFoldedAway, isTokenChar, MAX_SEARCH_WORDS, searchWords, tokenSpans } from "./search_words.ts";
import { Random } from "../../scripts/fuzz/random.ts";

/** An FTS5 table with the index's own tokenizer, and its per-token view. */
function sqliteTokenizer() {
  const db = new DatabaseSync(":memory:");
  db.exec(`CREATE VIRTUAL TABLE t USING fts5(a, tokenize = 'unicode61 remove_diacritics 2', detail = full);
           CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance');`);
  return db;
}

const SURROGATE = (cp: number) => cp >= 0xd800 && cp < 0xe000;
const CHUNK = 4096;

Deno.test("every code point is a token character (or a diacritic folded away) here exactly when SQLite's unicode61 says so", () => {
  // Each code point between two letters: one token when SQLite keeps it in the word, two when it separates.
  const db = sqliteTokenizer();
  const insert = db.prepare("INSERT INTO t (rowid, a) VALUES (?, ?)");
  db.exec("BEGIN");
  for (let start = 0; start < 0x110000; start += CHUNK) {
    const words: string[] = [];
    for (let cp = start; cp < start + CHUNK; cp++) {
      if (!SURROGATE(cp)) words.push(`a${String.fromCodePoint(cp)}b`);
    }
    insert.run(start / CHUNK + 1, words.join(" "));
  }
  db.exec("COMMIT");
  const terms = db.prepare("SELECT term FROM v ORDER BY doc, offset").all().map((r) => r.term as string);
  const sqlite = new Uint8Array(0x110000);
  const away = new Uint8Array(0x110000);
  let at = 0;
  for (let cp = 0; cp < 0x110000; cp++) {
    if (SURROGATE(cp)) continue;
    if (terms[at] === "a") at += 2;
    else (sqlite[cp] = 1, away[cp] = terms[at] === "ab" ? 1 : 0, at += 1);
  }
  assert.equal(at, terms.length);
  const differ = [];
  for (let cp = 0; cp < 0x110000; cp++) {
    if (SURROGATE(cp)) continue;
    if (isTokenChar(cp) !== (sqlite[cp] === 1) || isFoldedAway(cp) !== (away[cp] === 1)) {
      differ.push(cp.toString(16));
    }
  }
  if (differ.length) {
    console.log(
      `SQLite's tables changed; in unicode61_table.ts put\n${encode(sqlite)}\nand\n${encode(away)}`,
    );
  }
  assert.deepEqual(differ.slice(0, 20), []);
});

/** The table of src/model/unicode61_table.ts for a classification. */
function encode(token: Uint8Array): string {
  let out = "";
  let previous = 0;
  for (let cp = 0; cp < token.length;) {
    if (!token[cp] || SURROGATE(cp)) {
      cp++;
      continue;
    }
    let last = cp;
    while (last + 1 < token.length && token[last + 1] && !SURROGATE(last + 1)) last++;
    out += `${(cp - previous).toString(36)},${(last - cp + 1).toString(36)};`;
    previous = last + 1;
    cp = last + 1;
  }
  return out;
}

/** A seeded generator (the fuzz harness's mulberry32), so a failure repeats from its seed. */
function random(seed: number): () => number {
  const rng = new Random(seed);
  return () => rng.next();
}

const PIECES = [
  '"',
  "'",
  "*",
  "-",
  "+",
  "_",
  "@",
  ".",
  ":",
  "^",
  "(",
  ")",
  "{",
  "}",
  "\0",
  " ",
  "\t",
  "\n",
  "NEAR",
  "NEAR(",
  "AND",
  "OR",
  "NOT",
  "é",
  "e\u0301",
  "\u0301",
  "ß",
  "İ",
  "日本",
  "ली",
  "😀",
  "\u{1F774}",
  "\u{E0001}",
  "\uD800",
  "\uDC00",
  "\u200D",
  "\u00AD",
  "a",
  "Z",
  "9",
  "john_doe@example.com",
  "\uFFFD",
  "\u{10FFFD}",
];

/** A random string of pieces and random code points. */
export function randomText(next: () => number, length = 1 + Math.floor(next() * 12)): string {
  let out = "";
  for (let i = 0; i < length; i++) {
    out += next() < 0.6 ? PIECES[Math.floor(next() * PIECES.length)] : String.fromCodePoint(
      (() => {
        const cp = Math.floor(next() * (next() < 0.7 ? 0x3000 : 0x110000));
        return SURROGATE(cp) ? 0x41 : cp;
      })(),
    );
  }
  return out;
}

Deno.test("random strings split into as many tokens as SQLite makes, and each word is one token to SQLite", () => {
  const db = sqliteTokenizer();
  const insert = db.prepare("INSERT INTO t (rowid, a) VALUES (?, ?)");
  const next = random(20);
  const texts = Array.from({ length: 3_000 }, () => randomText(next));
  db.exec("BEGIN");
  texts.forEach((text, i) => insert.run(i + 1, text));
  db.exec("COMMIT");
  const counts = new Map<number, number>();
  for (const row of db.prepare("SELECT doc FROM v").all()) {
    counts.set(Number(row.doc), (counts.get(Number(row.doc)) ?? 0) + 1);
  }
  texts.forEach((text, i) => {
    assert.equal([...tokenSpans(text)].length, counts.get(i + 1) ?? 0, JSON.stringify(text));
  });
  // Each search word, quoted as the query does, is one FTS5 term: never a phrase, never an error.
  const column = new DatabaseSync(":memory:");
  column.exec(`CREATE VIRTUAL TABLE c USING fts5(a, tokenize = 'unicode61 remove_diacritics 2',
    detail = column, content = '', contentless_delete = 1)`);
  const put = column.prepare("INSERT INTO c (rowid, a) VALUES (?, ?)");
  texts.forEach((text, i) => put.run(i + 1, text));
  const match = column.prepare("SELECT rowid FROM c WHERE c MATCH ?");
  texts.forEach((text, i) => {
    const words = searchWords(text);
    if (words.length === 0) return;
    const found = match.all(words.map((w) => `"${w.replaceAll('"', '""')}"*`).join(" AND "));
    // The text's own words find the text.
    assert.ok(found.some((r) => Number(r.rowid) === i + 1), JSON.stringify(text));
  });
});

Deno.test("search words: the index's tokens of the text, at most 32, each once; none for punctuation", () => {
  assert.deepEqual(searchWords("john_doe@example.com"), ["john", "doe", "example", "com"]);
  assert.deepEqual(searchWords('"quoted" NEAR(a b) -x* ^y'), ["quoted", "NEAR", "a", "b", "x", "y"]);
  assert.deepEqual(searchWords("Café cafe\u0301 Café"), ["Café", "cafe\u0301"]);
  assert.deepEqual(searchWords(" !!! _ -- \0 \u0301 "), []);
  const many = Array.from({ length: 40 }, (_, i) => `w${i}`).join(" ");
  assert.equal(searchWords(many).length, MAX_SEARCH_WORDS);
});
