import assert from "node:assert/strict";
import type { DecodeEvent, DecoderLimits } from "./command.ts";
import { createCommandDecoder, type ImapCommandDecoder } from "./decoder.ts";
import { SAMPLE_COMMANDS, TEST_LIMITS } from "./test_helpers.ts";

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

Deno.test("decoder gives the same events however the bytes are split", () => {
  const stream = enc.encode(SAMPLE_COMMANDS.join("") + "z NOOP\r\n");
  const whole = createCommandDecoder(TEST_LIMITS);
  const expected = drain(whole, [stream]);
  assert.equal(expected.filter((e) => e.type === "command").length, SAMPLE_COMMANDS.length + 1);
  assert.ok(expected.every((e) => e.type === "command" || e.type === "continue"), Deno.inspect(expected));
  // One byte at a time.
  const single = createCommandDecoder(TEST_LIMITS);
  assert.deepEqual(drain(single, [...stream].map((b) => new Uint8Array([b]))), expected);
  // Split in two at every offset of every command.
  for (const command of SAMPLE_COMMANDS) {
    const bytes = enc.encode(command);
    const reference = drain(createCommandDecoder(TEST_LIMITS), [bytes]);
    for (let at = 0; at <= bytes.length; at++) {
      const events = drain(createCommandDecoder(TEST_LIMITS), [bytes.subarray(0, at), bytes.subarray(at)]);
      assert.deepEqual(events, reference, `${JSON.stringify(command)} split at ${at}`);
    }
  }
});

/** Pushes chunks the way the session would: after a pausing command, set the mode and go on. */
function drain(decoder: ImapCommandDecoder, chunks: Uint8Array[]): DecodeEvent[] {
  const events: DecodeEvent[] = [];
  for (const chunk of chunks) {
    let got = decoder.push(chunk);
    while (got.length > 0) {
      events.push(...got);
      got = decoder.push(new Uint8Array(0));
    }
  }
  return events;
}

Deno.test("decoder skips a refused command's non-synchronizing literal and resynchronizes", () => {
  const input = "a SEARCH " + "X".repeat(2000) + " {5+}\r\nab\r\nc FOO {2+}\r\n\r\n\r\nb NOOP\r\n";
  assert.deepEqual(decode(input), [
    { type: "bad", tag: "a", text: "Command line too long", code: "TOOBIG" },
    { type: "command", command: { tag: "b", uid: false, body: { name: "NOOP" } } },
  ]);
  // A parse error after the whole command was read: its literals were read with it.
  assert.deepEqual(decode("a FROB {3+}\r\nx\r\n\r\nb NOOP\r\n"), [
    { type: "bad", tag: "a", text: "Unknown command FROB" },
    { type: "command", command: { tag: "b", uid: false, body: { name: "NOOP" } } },
  ]);
  // A synchronizing literal over the limit: the client sends nothing more of that command.
  assert.deepEqual(decode("a LOGIN {201}\r\nb NOOP\r\n").map((e) => e.type), ["bad", "command"]);
});

Deno.test("decoder never reads past a literal's announced size", () => {
  assert.deepEqual(
    decode("a LOGIN {4}\r\nfred {2}\r\nxy\r\nb NOOP\r\n").filter((e) => e.type !== "continue"),
    [
      {
        type: "command",
        command: { tag: "a", uid: false, body: { name: "LOGIN", username: "fred", password: "xy" } },
      },
      { type: "command", command: { tag: "b", uid: false, body: { name: "NOOP" } } },
    ],
  );
  // The literal holds the CRLF that looks like the end of the line; the command goes on after it.
  const events = decode("a LOGIN {6}\r\nfr\r\ned secret\r\n").filter((e) => e.type !== "continue");
  assert.deepEqual(events, [
    {
      type: "command",
      command: { tag: "a", uid: false, body: { name: "LOGIN", username: "fr\r\ned", password: "secret" } },
    },
  ]);
});

Deno.test("decoder counts every literal of a command against one limit and holds no more than the limits", () => {
  const limits = { maxLine: 100, maxAppendLiteral: 1000, maxLiteral: 150 };
  const decoder = createCommandDecoder(limits);
  assert.deepEqual(decoder.push(enc.encode("a LOGIN {100+}\r\n" + "x".repeat(100) + " {100+}\r\n")), [
    { type: "tooBig", tag: "a", text: "Literal of 100 bytes is over the limit of 150", close: true },
  ]);
  const append = createCommandDecoder(limits);
  append.push(enc.encode("a APPEND INBOX {1000+}\r\n" + "y".repeat(999)));
  assert.equal(append.buffered(), "a APPEND INBOX {1000+}".length + 999);
  assert.equal(append.push(enc.encode("y\r\n"))[0].type, "command");
  assert.equal(append.buffered(), 0);
  const long = createCommandDecoder(limits);
  long.push(enc.encode("a " + "x".repeat(100_000)));
  assert.ok(long.buffered() <= limits.maxLine + 1, `${long.buffered()}`);
});

Deno.test("decoder holds what follows STARTTLS for the session to discard", () => {
  const decoder = createCommandDecoder(LIMITS);
  assert.deepEqual(decoder.push(enc.encode("a STARTTLS\r\nb LOGIN injected command\r\n")), [
    { type: "command", command: { tag: "a", uid: false, body: { name: "STARTTLS" } } },
  ]);
  assert.equal(new TextDecoder().decode(decoder.takePending()), "b LOGIN injected command\r\n");
  assert.deepEqual(decoder.push(enc.encode("c NOOP\r\n")), [
    { type: "command", command: { tag: "c", uid: false, body: { name: "NOOP" } } },
  ]);
});

Deno.test("decoder reads a raw line no longer than maxLine", () => {
  const decoder = createCommandDecoder({ ...LIMITS, maxLine: 10 });
  decoder.lineMode(true);
  assert.deepEqual(decoder.push(enc.encode("x".repeat(50) + "\r\na NOOP\r\n")), [
    { type: "bad", text: "Line too long", code: "TOOBIG" },
    { type: "command", command: { tag: "a", uid: false, body: { name: "NOOP" } } },
  ]);
});

Deno.test("decoder refuses an unknown command before asking for its literal", () => {
  assert.deepEqual(decode("a FROB {5}\r\nb NOOP\r\n"), [
    { type: "bad", tag: "a", text: "Unknown command FROB" },
    { type: "command", command: { tag: "b", uid: false, body: { name: "NOOP" } } },
  ]);
  assert.deepEqual(decode("+x LOGIN {5}\r\n"), [{ type: "bad", text: "Invalid tag" }]);
  assert.deepEqual(decode("a uid frob {5}\r\n"), [{ type: "bad", tag: "a", text: "Unknown command FROB" }]);
  assert.equal(decode("a uid search text {1}\r\nx\r\n")[0].type, "continue");
});
