/** crlf (message_tree.ts) against the obvious byte loop: the octets FETCH BODY[] serves. */
import assert from "node:assert/strict";
import { crlf } from "./message_tree.ts";

/** The obvious byte loop, as the reference the line-at-a-time copy must match. */
function reference(raw: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 10 && (i === 0 || raw[i - 1] !== 13)) out.push(13);
    out.push(raw[i]);
  }
  return new Uint8Array(out);
}

Deno.test("crlf makes every bare LF a CRLF and leaves CRLF, lone CR and other bytes alone", () => {
  const cases = ["", "\n", "\n\n", "a\nb", "a\r\nb\n", "\r\n\n\r\r\n", "no newline", "end\n", "\r", "x\r"];
  for (const text of cases) {
    const raw = new TextEncoder().encode(text);
    assert.deepEqual(crlf(raw), reference(raw), JSON.stringify(text));
  }
});

Deno.test("crlf matches the byte loop on random bytes rich in CR and LF", () => {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let n = 0; n < 500; n++) {
    const raw = new Uint8Array(Math.floor(next() * 200));
    for (let i = 0; i < raw.length; i++) {
      const r = next();
      raw[i] = r < 0.2 ? 10 : r < 0.35 ? 13 : Math.floor(next() * 256);
    }
    assert.deepEqual(crlf(raw), reference(raw));
  }
});

Deno.test("crlf returns the stored bytes themselves when there is no bare LF", () => {
  const raw = new TextEncoder().encode("a\r\nb\r\n");
  assert.equal(crlf(raw), raw);
});
