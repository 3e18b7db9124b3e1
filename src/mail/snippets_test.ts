import assert from "node:assert/strict";
import { highlight, searchTerms, snippet, SNIPPET_MAX_OCTETS } from "./snippets.ts";

const octets = (text: string) => new TextEncoder().encode(text).length;

Deno.test("search terms: the words of FTS5 expressions, folded like the index folds them", () => {
  assert.deepEqual(searchTerms(['"Café"* "PLANS"*', '"café"*']), ["cafe", "plans"]);
  assert.deepEqual(searchTerms(['"naïve"* "Ürün"*', '"東京"*']), ["naive", "urun", "東京"]);
  assert.deepEqual(searchTerms(["", '"*"']), []);
});

Deno.test("highlight marks each word that starts with a term, whatever its case and Latin diacritics", () => {
  const terms = searchTerms(['"cafe"*']);
  assert.equal(
    highlight("Café, CAFÉS & cafeteria; not a scafe", terms),
    "<mark>Café</mark>, <mark>CAFÉS</mark> &amp; <mark>cafeteria</mark>; not a scafe",
  );
  assert.equal(highlight("<b>café</b>", terms), "&lt;b&gt;<mark>café</mark>&lt;/b&gt;");
  assert.equal(highlight("nothing here", terms), null);
  // A decomposed é (e + U+0301) is the same word.
  assert.equal(highlight("cafe\u0301", terms), "<mark>cafe\u0301</mark>");
  // A mark the index takes as a separator (SQLite's unicode61 splits "ली" into "ल" and U+0940)
  // separates here too: the snippet marks the token the index found.
  assert.equal(highlight("ली", searchTerms(['"ल"*'])), "<mark>ल</mark>\u0940");
});

Deno.test("snippet: the window with the most distinct words, ellipses where the text goes on, at most 255 octets", () => {
  const filler = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");
  const text = `${filler(60)} alpha ${filler(60)} alpha beta gamma ${filler(60)}`;
  const out = snippet(text, searchTerms(['"alpha"* "beta"*', '"gamma"*']))!;
  assert.match(out, /^….*<mark>alpha<\/mark> <mark>beta<\/mark> <mark>gamma<\/mark>.*…$/);
  assert.ok(octets(out) <= SNIPPET_MAX_OCTETS);
  // The start of the text: no leading ellipsis; white space collapsed.
  assert.equal(
    snippet("Hello\n\n  there world", searchTerms(['"there"*'])),
    "Hello <mark>there</mark> world",
  );
  assert.equal(snippet("nothing", searchTerms(['"there"*'])), null);
});

Deno.test("snippet: escaping and long words never push it past 255 octets, and the match always shows", () => {
  const terms = searchTerms(['"needle"*']);
  const escaped = snippet(`${"<&> ".repeat(200)}needle ${"<&> ".repeat(200)}`, terms)!;
  assert.ok(escaped.includes("<mark>needle</mark>"));
  assert.ok(octets(escaped) <= SNIPPET_MAX_OCTETS, `${octets(escaped)} octets`);
  const wide = snippet(`${"日本語".repeat(10)} needle ${"日本語".repeat(10)}`, terms)!;
  assert.ok(wide.includes("<mark>needle</mark>") && octets(wide) <= SNIPPET_MAX_OCTETS);
  const huge = snippet(`x needle${"e".repeat(1000)} y`, terms)!;
  assert.ok(huge.startsWith("…<mark>needle") && huge.endsWith("</mark>…"));
  assert.ok(octets(huge) <= SNIPPET_MAX_OCTETS);
  const emoji = snippet(`needle${"😀".repeat(300)}`, searchTerms(['"needle"*']))!;
  assert.ok(octets(emoji) <= SNIPPET_MAX_OCTETS && !emoji.includes("\ufffd"));
});

Deno.test("a body that is one 200 KB word gives its start, marked, within 255 octets", () => {
  for (const [char, term] of [["a", "a"], ["é", "e"], ["<", "x"]] as const) {
    const text = char === "<" ? `x${"x<".repeat(100_000)}` : char.repeat(200_000);
    const out = snippet(text, searchTerms([term]))!;
    const octets = new TextEncoder().encode(out).length;
    assert.ok(octets <= SNIPPET_MAX_OCTETS && octets > SNIPPET_MAX_OCTETS - 12, `${octets}: ${out}`);
    assert.match(
      out,
      char === "<" ? /^<mark>xx<\/mark>&lt;<mark>x<\/mark>/ : new RegExp(`^<mark>${char}+</mark>…$`),
    );
  }
});

Deno.test("thousands of search words mark exactly what the words that match mark", () => {
  const text = "Lorem ipsum dolor sit amet, Café CAFÉS consectetur; lo and ipsa";
  const noise = Array.from({ length: 32_768 }, (_, i) => `w${i}x`);
  for (const words of [["lo"], ["ips", "cafe"], ["dolor", "am", "c"]]) {
    const many = searchTerms([...noise.slice(0, 1_000), ...words, ...noise.slice(1_000)]);
    assert.equal(highlight(text, many), highlight(text, searchTerms(words)));
    assert.equal(snippet(text.repeat(20), many), snippet(text.repeat(20), searchTerms(words)));
  }
});

Deno.test("a search word longer than 256 characters marks the tokens that start with its first 256", () => {
  const long = "a".repeat(300);
  assert.deepEqual(searchTerms([long]), ["a".repeat(256)]);
  assert.equal(
    highlight(`x ${"a".repeat(280)} y`, searchTerms([long])),
    `x <mark>${"a".repeat(280)}</mark> y`,
  );
});
