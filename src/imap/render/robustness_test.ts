/**
 * Hostile and broken messages never make a rendering throw: a fixed-seed run of mutated corpus
 * messages (truncated, bytes inserted — NUL, CR, LF, 8-bit —, boundaries duplicated, lines
 * deleted), deep nesting past the limits, an empty message, and a message that is only line breaks.
 * Every item is rendered for each; the answers are checked for shape, not for values.
 */
import assert from "node:assert/strict";
import type { FetchItem } from "../command.ts";
import { ImapMessage, renderFetchItem, resolvePart } from "./mod.ts";
import { mutate, random } from "../../../test/imap_render_helpers.ts";

const ITEMS: FetchItem[] = [
  { kind: "ENVELOPE" },
  { kind: "BODYSTRUCTURE" },
  { kind: "BODY" },
  { kind: "RFC822" },
  { kind: "RFC822.HEADER" },
  { kind: "RFC822.TEXT" },
  { kind: "RFC822.SIZE" },
];

/** Renders every item of every part path up to depth 3; returns how many renderings were made. */
function renderEverything(raw: Uint8Array): number {
  const message = new ImapMessage(raw);
  let count = 0;
  const render = (item: FetchItem) => {
    const rendered = renderFetchItem(message, item);
    assert.ok(rendered, `rendered ${item.kind}`);
    count++;
  };
  ITEMS.forEach(render);
  const paths: number[][] = [[]];
  for (let i = 0; i < paths.length && paths.length < 200; i++) {
    if (paths[i].length >= 3) continue;
    for (let n = 1; n <= 4; n++) if (resolvePart(message, [...paths[i], n])) paths.push([...paths[i], n]);
  }
  for (const part of paths) {
    for (const text of [undefined, "HEADER", "TEXT", "MIME", "HEADER.FIELDS", "HEADER.FIELDS.NOT"] as const) {
      if (text === "MIME" && part.length === 0) continue;
      render({
        kind: "BODY[]",
        peek: true,
        section: { part, text, fields: text?.startsWith("HEADER.") ? ["From"] : undefined },
      });
    }
    render({ kind: "BODY[]", peek: true, section: { part }, partial: { offset: 3, length: 9 } });
    render({ kind: "BINARY[]", peek: true, part });
    render({ kind: "BINARY.SIZE", part });
  }
  return count;
}

Deno.test("rendering never throws on mutated corpus messages (fixed seed, bounded count)", () => {
  const dir = new URL("../../../test/fixtures/imap_render/", import.meta.url);
  const corpus = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".eml")).map((e) =>
    Deno.readFileSync(new URL(e.name, dir))
  );
  const next = random(24);
  let renderings = 0;
  for (let i = 0; i < 400; i++) {
    renderings += renderEverything(mutate(corpus[i % corpus.length], next));
  }
  assert.ok(renderings > 400 * ITEMS.length);
});

Deno.test("an empty message and one of only line breaks render as an empty text/plain message", () => {
  for (const raw of ["", "\n\n\n", "\r\n"]) {
    const message = new ImapMessage(new TextEncoder().encode(raw));
    const structure = renderFetchItem(message, { kind: "BODYSTRUCTURE" });
    assert.ok(structure?.ok);
    const value = structure.value as unknown[];
    assert.deepEqual(value.slice(0, 3), ["text", "plain", ["charset", "us-ascii"]]);
    const envelope = renderFetchItem(message, { kind: "ENVELOPE" });
    assert.ok(envelope?.ok);
    assert.deepEqual(envelope.value, [null, null, null, null, null, null, null, null, null, null]);
  }
  assert.equal(renderEverything(new Uint8Array(0)) > 0, true);
});

Deno.test("multiparts nested past the parser's depth limit render without throwing", () => {
  let body = "innermost\r\n";
  for (let depth = 0; depth < 60; depth++) {
    body =
      `Content-Type: multipart/mixed; boundary="b${depth}"\r\n\r\n--b${depth}\r\n${body}\r\n--b${depth}--\r\n`;
  }
  const raw = new TextEncoder().encode(`From: a@example.org\r\n${body}`);
  assert.ok(renderEverything(raw) > 0);
  const structure = renderFetchItem(new ImapMessage(raw), { kind: "BODYSTRUCTURE" });
  assert.ok(structure?.ok);
});

Deno.test("message/rfc822 nested a hundred deep stops being parsed at the limit and still renders", () => {
  let message = "From: last@example.org\r\nSubject: bottom\r\n\r\nbottom\r\n";
  for (let depth = 0; depth < 100; depth++) {
    message = `From: m${depth}@example.org\r\nContent-Type: message/rfc822\r\n\r\n${message}`;
  }
  const raw = new TextEncoder().encode(message);
  assert.ok(renderEverything(raw) > 0);
  const rendered = renderFetchItem(new ImapMessage(raw), { kind: "BODYSTRUCTURE" });
  assert.ok(rendered?.ok);
  assert.ok(JSON.stringify(rendered.value).length < 100_000);
});
