/**
 * The IMAP benchmark's own pieces (scripts/bench/imap_wire.ts, imap_corpus.ts): the client finds
 * where a response ends across literals and partial reads, and the corpus is the same for a seed,
 * of the sizes the benchmark claims, with its search words where it says.
 */
import assert from "node:assert/strict";
import { responseEnd } from "../scripts/bench/imap_wire.ts";
import { corpusMessage, flagsOf, SEARCH_WORDS } from "../scripts/bench/imap_corpus.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("a response ends at its CRLF, or after every literal its lines announce", () => {
  const simple = bytes("* 3 EXISTS\r\nb1 OK done\r\n");
  assert.equal(responseEnd(simple, 0, simple.length), 12);
  assert.equal(responseEnd(simple, 12, simple.length), simple.length);
  // A literal holding a CRLF and something that looks like a tagged line is skipped by its size.
  const body = "a\r\nb1 OK fake\r\n";
  const fetch = bytes(`* 1 FETCH (BODY[] {${body.length}}\r\n${body} UID 4)\r\nb1 OK x\r\n`);
  const end = responseEnd(fetch, 0, fetch.length);
  assert.equal(new TextDecoder().decode(fetch.subarray(0, end)).endsWith(" UID 4)\r\n"), true);
  for (const marker of [`{${body.length}+}`, `~{${body.length}}`]) {
    const other = bytes(`* 1 FETCH (BINARY[] ${marker}\r\n${body})\r\n`);
    assert.equal(responseEnd(other, 0, other.length), other.length, marker);
  }
});

Deno.test("a response cut inside a line or a literal is not complete yet", () => {
  const fetch = bytes("* 1 FETCH (BODY[] {10}\r\n0123456789)\r\n");
  for (const cut of [5, 24, 30, fetch.length - 1]) assert.equal(responseEnd(fetch, 0, cut), -1, String(cut));
  assert.equal(responseEnd(fetch, 0, fetch.length), fetch.length);
  // A brace that is not a literal's (no digits, or text after it) ends the line.
  for (const line of ["* OK {}\r\n", "* OK {x}\r\n", "* OK 12}\r\n"]) {
    assert.equal(responseEnd(bytes(line), 0, line.length), line.length, line);
  }
});

Deno.test("the corpus is the same for a seed, 2 to 20 KB, with its search words and flags", () => {
  assert.equal(corpusMessage(24, 17), corpusMessage(24, 17));
  assert.notEqual(corpusMessage(24, 17), corpusMessage(25, 17));
  let rare = 0;
  let common = 0;
  for (let i = 0; i < 400; i++) {
    const message = corpusMessage(24, i);
    assert.ok(message.length >= 1500 && message.length <= 21_000, `message ${i}: ${message.length} bytes`);
    assert.ok(!message.includes("\r"), "LF line endings, as a Maildir keeps them");
    if (message.includes(SEARCH_WORDS.rare)) rare++;
    if (message.includes(` ${SEARCH_WORDS.common} `)) common++;
  }
  assert.equal(rare, 2, "one message in 200 carries the rare word");
  assert.ok(common > 380, `the common word is in nearly every message (${common} of 400)`);
  assert.deepEqual(flagsOf(0), { seen: false, flagged: false });
  assert.deepEqual(flagsOf(7), { seen: true, flagged: true });
});
