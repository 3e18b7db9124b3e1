import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { migrate } from "./connection.ts";
import { Db } from "./db.ts";
import { MAX_PARTS, wordExpression, wordsExpression } from "./search_terms.ts";

/** A full-text index alone, its rows given as [rowid, subject, body]. */
function index(rows: [number, string, string][]): Db {
  const raw = new DatabaseSync(":memory:");
  migrate(raw);
  const insert = raw.prepare(
    `INSERT INTO email_search (rowid, subject, from_text, to_text, cc_text, bcc_text, body, attachments)
     VALUES (?, ?, '', '', '', '', ?, '')`,
  );
  for (const [rowid, subject, body] of rows) insert.run(rowid, subject, body);
  return new Db(raw);
}

const matches = (db: Db, expression: string) =>
  db.all<{ id: number }>(
    "SELECT rowid AS id FROM email_search WHERE email_search MATCH ? ORDER BY rowid DESC",
    expression,
  ).map((row) => Number(row.id));

/** Many extensions of "sender1": more than the expansion takes. */
const SENDERS = Array.from({ length: 40 }, (_, i) => `sender1${i}`);

const ROWS: [number, string, string][] = [
  [1, "Meeting notes", "with within without the water"],
  [2, "Re: Meeting", "WITH Water watering sender1 sender12"],
  [3, "Conversation", "withheld people naïve café straße"],
  [4, "about", "abcd中文 abcdefg abcd x1234 x12345"],
  [5, "Notes", "peoples watered"],
  [6, "", `${SENDERS.join(" ")} Ωmega`],
  [7, "Hello", "with"],
  [8, "water", "sender"],
  [9, "Zones", Array.from("abcdefghijklmnopqrst", (c) => `za${c}x`).join(" ")],
];

Deno.test("a word finds the rows its prefix finds, expanded or not, in any case and any column", () => {
  const db = index(ROWS);
  const words = [
    "with",
    "With",
    "WITHIN",
    "withhel",
    "water",
    "wate",
    "people",
    "peop",
    "sender",
    "sender1",
    "sender12",
    "abcd",
    "x1234",
    "naïve",
    "naive",
    "cafe",
    "meet",
    "conversation",
    "nowhere",
    "wi",
    "wit",
    "w",
    "st",
    "s",
    "ab",
    "na",
    "ca",
    "x",
    "za",
    "zo",
    "z",
    "Ω",
  ];
  for (const word of words) {
    for (const column of ["", "subject : ", "body : "]) {
      assert.deepEqual(
        matches(db, `${column}(${wordExpression(db, word)})`),
        matches(db, `${column}("${word}"*)`),
        `${column}${word} → ${wordExpression(db, word)}`,
      );
    }
  }
  assert.deepEqual(
    matches(db, wordsExpression(db, ["with", "wate"])),
    matches(db, `"with"* AND "wate"*`),
  );
});

Deno.test("a word is looked up as its tokens, or a short one as its three-letter prefixes, when few, else as a prefix", () => {
  const db = index(ROWS);
  // No longer token: the token alone.
  assert.equal(wordExpression(db, "Water"), `("water" OR "watered" OR "watering")`);
  assert.equal(wordExpression(db, "watering"), `"watering"`);
  assert.equal(wordExpression(db, "nowhere"), `"nowhere"`);
  // A few: each of them; the word itself is one even where no row has it.
  assert.equal(wordExpression(db, "wate"), `("wate" OR "water" OR "watered" OR "watering")`);
  // A shorter word: its token and each three-letter prefix that extends it, which the prefix index reads.
  assert.equal(wordExpression(db, "wi"), `("wi" OR "wit"*)`);
  assert.equal(wordExpression(db, "W"), `("w" OR "wat"* OR "wit"*)`);
  assert.equal(wordExpression(db, "st"), `("st" OR "str"*)`);
  assert.equal(wordExpression(db, "x"), `("x" OR "x12"*)`);
  // More than MAX_PARTS, a token that is not ASCII, a word that is not: the prefix.
  assert.ok(SENDERS.length > MAX_PARTS);
  assert.equal(wordExpression(db, "sender1"), `"sender1"*`);
  assert.equal(wordExpression(db, "za"), `"za"*`);
  assert.equal(wordExpression(db, "abcd"), `"abcd"*`);
  assert.equal(wordExpression(db, "naïve"), `"naïve"*`);
  // Three letters read the prefix index.
  assert.equal(wordExpression(db, "wit"), `"wit"*`);
});

Deno.test("the expansion follows the index: a token added or deleted later is seen by the next query", () => {
  const db = index(ROWS);
  assert.equal(wordExpression(db, "hello"), `"hello"`);
  db.run(
    `INSERT INTO email_search (rowid, subject, from_text, to_text, cc_text, bcc_text, body, attachments)
     VALUES (9, 'hellos', '', '', '', '', 'helloworld', '')`,
  );
  assert.equal(wordExpression(db, "hello"), `("hello" OR "hellos" OR "helloworld")`);
  assert.deepEqual(matches(db, wordExpression(db, "hello")), [9, 7]);
  db.run("DELETE FROM email_search WHERE rowid = 9");
  assert.deepEqual(matches(db, wordExpression(db, "hello")), matches(db, `"hello"*`));
  assert.deepEqual(matches(db, wordExpression(db, "hellos")), []);
});

Deno.test("random words of a small alphabet find what their prefixes find, in every column", () => {
  let seed = 11;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  // Three letters and two digits: many tokens share every prefix, so some words take many parts.
  const token = (length: number) => Array.from({ length }, () => "abc12"[Math.floor(next() * 5)]).join("");
  const rows: [number, string, string][] = [];
  for (let id = 1; id <= 300; id++) {
    const words = (n: number) => Array.from({ length: n }, () => token(1 + Math.floor(next() * 6))).join(" ");
    rows.push([id, words(2), words(8)]);
  }
  const db = index(rows);
  const forms = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const word = token(1 + Math.floor(next() * 6));
    for (const column of ["", "subject : ", "body : "]) {
      const expression = wordExpression(db, next() < 0.3 ? word.toUpperCase() : word);
      forms.add(expression.endsWith("*") && !expression.includes(" OR ") ? "prefix" : "parts");
      assert.deepEqual(
        matches(db, `${column}(${expression})`),
        matches(db, `${column}("${word}"*)`),
        `${column}${word} → ${expression}`,
      );
    }
  }
  assert.deepEqual([...forms].sort(), ["parts", "prefix"], "both forms were tried");
});

Deno.test("a vocabulary made in a transaction that rolled back is made again", async () => {
  const db = index(ROWS);
  await assert.rejects(db.transaction(() => {
    assert.equal(wordExpression(db, "wate"), `("wate" OR "water" OR "watered" OR "watering")`);
    throw new Error("rolled back");
  }));
  // The first lookup finds the table gone and keeps the prefix; the next one makes it again.
  assert.equal(wordExpression(db, "wate"), `"wate"*`);
  assert.equal(wordExpression(db, "wate"), `("wate" OR "water" OR "watered" OR "watering")`);
});
