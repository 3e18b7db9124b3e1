/**
 * Full-text search of Email/query (RFC 8621 §4.4.1) and SearchSnippet/get (§5.1) with any text a
 * client may send: words joined by "_", "@" or ".", FTS5 operators, quotes, NUL, random Unicode.
 * A search never fails, and the words of a message find it.
 */
import assert from "node:assert/strict";
import { imported, message } from "./email_helpers.ts";
import { mailCall, mailError, mailRequest, type Obj, withAliceAndBob } from "./mail_helpers.ts";
import { Random } from "../scripts/fuzz/random.ts";

const TEXT_CONDITIONS = ["text", "from", "to", "cc", "bcc", "subject", "body"];

Deno.test("Email/query finds john_doe@example.com by from, text, subject and body: words with _ never fail", async () => {
  await withAliceAndBob(async (t, alice) => {
    const email = await imported(
      t,
      alice,
      message(`From: John Doe <john_doe@example.com>
To: alice@example.org
Subject: about snake_case_names

The file is at foo_bar.txt, ask john_doe.
`),
    );
    const other = await imported(
      t,
      alice,
      message(`From: jane@example.com
Subject: unrelated

nothing here
`),
    );
    // RFC 8621 §4.4.1 from: "Looks for the text in the From header field of the message"; text:
    // "Looks for the text in Emails" (From, To, Cc, Bcc, Subject and the body).
    for (
      const filter of [
        { from: "john_doe@example.com" },
        { from: "john_doe" },
        { text: "john_doe@example.com" },
        { subject: "snake_case_names" },
        { body: "foo_bar.txt" },
        { text: '"john_doe"' },
      ]
    ) {
      const result = await mailCall(t, "Email/query", { filter }, alice);
      assert.deepEqual(result.ids, [email.id], JSON.stringify(filter));
    }
    const snippets = await mailCall(t, "SearchSnippet/get", {
      filter: { body: "foo_bar" },
      emailIds: [email.id, other.id],
    }, alice);
    const [first] = snippets.list as Obj[];
    assert.match(String(first.preview), /<mark>foo<\/mark>_<mark>bar<\/mark>\.txt/);
  });
});

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
  "\\",
  "\0",
  " ",
  "NEAR",
  "NEAR(",
  "AND",
  "OR",
  "NOT",
  "é",
  "e\u0301",
  "\u0301",
  "ß",
  "日本",
  "ली",
  "😀",
  "\uD800",
  "a",
  "9",
  "x_y",
];

function randomText(next: () => number): string {
  let out = "";
  const length = 1 + Math.floor(next() * 10);
  for (let i = 0; i < length; i++) {
    if (next() < 0.6) out += PIECES[Math.floor(next() * PIECES.length)];
    else {
      const cp = Math.floor(next() * (next() < 0.7 ? 0x3000 : 0x110000));
      out += String.fromCodePoint(cp >= 0xd800 && cp < 0xe000 ? 0x5f : cp);
    }
  }
  return out;
}

Deno.test("2,000 random search texts through every text condition and SearchSnippet/get: never an error", async () => {
  await withAliceAndBob(async (t, alice) => {
    const email = await imported(t, alice, message("From: a@example.org\nSubject: hello\n\nhello world\n"));
    const next = random(8621);
    for (let batch = 0; batch < 125; batch++) {
      // 16 calls per request (the session's maxCallsInRequest).
      const calls = Array.from({ length: 16 }, (_, i) => {
        const key = TEXT_CONDITIONS[Math.floor(next() * TEXT_CONDITIONS.length)];
        const filter = next() < 0.3
          ? {
            operator: ["AND", "OR", "NOT"][i % 3],
            conditions: [{ [key]: randomText(next) }, { text: randomText(next) }],
          }
          : { [key]: randomText(next) };
        return i % 4 === 3
          ? ["SearchSnippet/get", { accountId: alice.accountId, filter, emailIds: [email.id] }, `c${i}`]
          : ["Email/query", { accountId: alice.accountId, filter }, `c${i}`];
      }) as [string, Obj, string][];
      const { methodResponses } = await mailRequest(t, calls, alice.auth);
      methodResponses.forEach(([name, result], i) => {
        assert.notEqual(name, "error", `${JSON.stringify(calls[i])} → ${JSON.stringify(result)}`);
      });
    }
  });
});

Deno.test("a message's own random words in its subject and body find it by subject, body and text", async () => {
  await withAliceAndBob(async (t, alice) => {
    const next = random(20);
    for (let i = 0; i < 40; i++) {
      // Text a message can carry (no control characters), with at least one letter.
      const words = `${
        [...randomText(next)].map((c) => c.codePointAt(0)! < 0x20 || /\p{Cs}/u.test(c) ? " " : c).join("")
      } w${i}`;
      const subject = `=?UTF-8?B?${btoa(String.fromCharCode(...new TextEncoder().encode(words)))}?=`;
      const email = await imported(
        t,
        alice,
        message(
          `From: a@example.org\nSubject: ${subject}\nContent-Type: text/plain; charset=utf-8\n\n${words}\n`,
        ),
      );
      for (const key of ["subject", "body", "text"]) {
        const result = await mailCall(t, "Email/query", { filter: { [key]: words } }, alice);
        assert.ok((result.ids as string[]).includes(email.id as string), `${key}: ${JSON.stringify(words)}`);
      }
    }
  });
});

Deno.test("a text condition with no word (only punctuation) matches every email, as a search for no word", async () => {
  await withAliceAndBob(async (t, alice) => {
    const a = await imported(t, alice, message("Subject: one\n\nbody\n"));
    const b = await imported(t, alice, message("Subject: two\n\nbody\n"));
    // RFC 8621 §4.4.1: tokens "MUST all be present for the Email to match the filter"; with none,
    // every email has them all.
    for (const text of ["", "___", '"" * - ( ) : ^', "\0"]) {
      const result = await mailCall(t, "Email/query", { filter: { text } }, alice);
      assert.deepEqual([...(result.ids as string[])].sort(), [a.id, b.id].sort(), JSON.stringify(text));
    }
    const notString = await mailError(t, "Email/query", { filter: { text: 42 } }, alice);
    assert.equal(notString.type, "invalidArguments");
  });
});
