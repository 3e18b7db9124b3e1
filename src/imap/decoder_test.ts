import assert from "node:assert/strict";
import type { DecodeEvent, DecoderLimits } from "./command.ts";
import { createCommandDecoder } from "./decoder.ts";

const LIMITS: DecoderLimits = { maxLine: 1000, maxAppendLiteral: 100_000, maxLiteral: 200 };
const enc = new TextEncoder();

/** Feeds `input` in one push and returns the events. */
function decode(input: string | Uint8Array, limits = LIMITS): DecodeEvent[] {
  const decoder = createCommandDecoder(limits);
  return decoder.push(typeof input === "string" ? enc.encode(input) : input);
}

Deno.test("decoder reads a tagged command with no arguments", () => {
  assert.deepEqual(decode("a1 NOOP\r\n"), [
    { type: "command", command: { tag: "a1", uid: false, body: { name: "NOOP" } } },
  ]);
  assert.deepEqual(decode("x capability\n")[0], {
    type: "command",
    command: { tag: "x", uid: false, body: { name: "CAPABILITY" } },
  });
});

Deno.test("decoder reads LOGIN with atoms, quoted strings and a literal", () => {
  const events = decode('a LOGIN "fred \\"x\\"" {5}\r\nse\\cr\r\n');
  assert.deepEqual(events, [
    { type: "continue", text: "Ready for literal data" },
    {
      type: "command",
      command: { tag: "a", uid: false, body: { name: "LOGIN", username: 'fred "x"', password: "se\\cr" } },
    },
  ]);
  assert.deepEqual(decode("b login fred secret\r\n")[0], {
    type: "command",
    command: { tag: "b", uid: false, body: { name: "LOGIN", username: "fred", password: "secret" } },
  });
});

Deno.test("decoder reads a non-synchronizing literal without a continuation", () => {
  const events = decode("a LOGIN {4+}\r\nfred {6+}\r\nsecret\r\n");
  assert.deepEqual(events, [
    {
      type: "command",
      command: { tag: "a", uid: false, body: { name: "LOGIN", username: "fred", password: "secret" } },
    },
  ]);
});

Deno.test("decoder reads AUTHENTICATE with and without an initial response, then raw lines", () => {
  const decoder = createCommandDecoder(LIMITS);
  assert.deepEqual(decoder.push(enc.encode("a AUTHENTICATE PLAIN AGZyZWQAc2VjcmV0\r\n")), [{
    type: "command",
    command: {
      tag: "a",
      uid: false,
      body: { name: "AUTHENTICATE", mechanism: "PLAIN", initialResponse: enc.encode("\0fred\0secret") },
    },
  }]);
  assert.deepEqual(decoder.push(enc.encode("b AUTHENTICATE plain =\r\n"))[0], {
    type: "command",
    command: {
      tag: "b",
      uid: false,
      body: { name: "AUTHENTICATE", mechanism: "PLAIN", initialResponse: "" },
    },
  });
  // Pipelined: the decoder pauses after AUTHENTICATE until the session chose the mode.
  assert.deepEqual(decoder.push(enc.encode("c AUTHENTICATE LOGIN\r\nZnJlZA==\r\nd NOOP\r\n")).length, 1);
  decoder.lineMode(true);
  assert.deepEqual(decoder.push(new Uint8Array(0)), [
    { type: "line", line: "ZnJlZA==" },
    { type: "command", command: { tag: "d", uid: false, body: { name: "NOOP" } } },
  ]);
  assert.equal(decode("e AUTHENTICATE PLAIN AGZy$ZWQ\r\n")[0].type, "bad");
});

Deno.test("decoder reads IDLE's DONE as a line in line mode", () => {
  const decoder = createCommandDecoder(LIMITS);
  assert.deepEqual(decoder.push(enc.encode("a IDLE\r\n")), [
    { type: "command", command: { tag: "a", uid: false, body: { name: "IDLE" } } },
  ]);
  decoder.lineMode(true);
  assert.deepEqual(decoder.push(enc.encode("DO")), []);
  assert.deepEqual(decoder.push(enc.encode("NE\r\nb NOOP\r\n")), [
    { type: "line", line: "DONE" },
    { type: "command", command: { tag: "b", uid: false, body: { name: "NOOP" } } },
  ]);
});

Deno.test("decoder refuses an unknown command with its tag, and a line without a tag", () => {
  assert.deepEqual(decode("a FROB\r\n"), [{ type: "bad", tag: "a", text: "Unknown command FROB" }]);
  assert.equal((decode("+ NOOP\r\n")[0] as { tag?: string }).tag, undefined);
  assert.deepEqual(decode("\r\n\r\n"), []);
});

Deno.test("decoder refuses a literal over the limit on its announcement, before reading it", () => {
  assert.deepEqual(decode("a LOGIN fred {1000000000}\r\n"), [
    { type: "bad", tag: "a", text: "Literal of 1000000000 bytes is over the limit of 200", code: "TOOBIG" },
  ]);
  assert.deepEqual(decode("a APPEND INBOX {1000000000}\r\n"), [
    {
      type: "tooBig",
      tag: "a",
      text: "Literal of 1000000000 bytes is over the limit of 100000",
      close: false,
    },
  ]);
  const decoder = createCommandDecoder(LIMITS);
  assert.deepEqual(decoder.push(enc.encode("a APPEND INBOX {1000000000+}\r\nxxxx")), [
    {
      type: "tooBig",
      tag: "a",
      text: "Literal of 1000000000 bytes is over the limit of 100000",
      close: true,
    },
  ]);
  assert.deepEqual(decoder.push(enc.encode("b NOOP\r\n")), []);
});

Deno.test("decoder refuses an over-long line and resynchronizes at the next command", () => {
  const long = "a SEARCH " + "X".repeat(2000) + " {3+}\r\nabc\r\nb NOOP\r\n";
  assert.deepEqual(decode(long), [
    { type: "bad", tag: "a", text: "Command line too long", code: "TOOBIG" },
    { type: "command", command: { tag: "b", uid: false, body: { name: "NOOP" } } },
  ]);
});
