/**
 * A seeded fuzz of the IMAP command decoder (src/imap/decoder.ts), in process: rounds of valid
 * commands, garbled ones (bytes flipped, dropped, repeated; 8-bit bytes in atoms; unbalanced
 * parentheses and quotes; literal announcements that lie, overflow the limits, or never end; huge
 * sequence sets), fed in random chunks with line mode toggled at random. After every push the
 * decoder must not have thrown and must hold no more than its limits allow; after every round,
 * CRLFs then a NOOP must decode as that NOOP (it resynchronizes), unless it asked to close.
 *
 * The seed is printed; replay a failure with POSTERN_FUZZ_SEED=<seed> (and POSTERN_FUZZ_ROUNDS=<n>).
 */
import assert from "node:assert/strict";
import { Random } from "../scripts/fuzz/random.ts";
import type { DecodeEvent, DecoderLimits } from "../src/imap/command.ts";
import { createCommandDecoder, type ImapCommandDecoder } from "../src/imap/decoder.ts";
import { SAMPLE_COMMANDS } from "../src/imap/test_helpers.ts";

const SEED = Number(Deno.env.get("POSTERN_FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31));
const ROUNDS = Number(Deno.env.get("POSTERN_FUZZ_ROUNDS") ?? 4000);
const LIMITS: DecoderLimits = { maxLine: 512, maxAppendLiteral: 256, maxLiteral: 64 };
const enc = new TextEncoder();
/** A tag: ASTRING-CHARs but "+" (printable ASCII without the atom specials). */
const TAG = /^[!#$&'\x2c-\x5b\x5d-\x7a|}~]+$/;

const NOISE = [
  "(",
  ")",
  '"',
  "\\",
  "{",
  "}",
  "{5}",
  "{3+}",
  "~{2}",
  "{99999999999999999999}",
  "{300+}",
  "{65}",
  "[",
  "]",
  "<0.1>",
  "*",
  "%",
  "$",
  " ",
  "\r",
  "\n",
  "\r\n",
  "\0",
  "\x7f",
  "\u00e9",
  "NIL",
  "UID",
  "1:*",
  "4294967296",
  "9223372036854775808",
];

/** One round's bytes: a few commands, each valid or garbled. */
function roundBytes(random: Random): Uint8Array {
  const parts: number[] = [];
  for (let n = random.int(1, 4); n > 0; n--) {
    let command = [...enc.encode(random.pick(SAMPLE_COMMANDS))];
    const garble = random.int(0, 6);
    for (let k = 0; k < garble; k++) command = mutate(random, command);
    parts.push(...command);
  }
  if (random.chance(0.1)) parts.push(...enc.encode(`h FETCH ${hugeSet(random)} FLAGS\r\n`));
  return Uint8Array.from(parts);
}

function mutate(random: Random, bytes: number[]): number[] {
  const at = random.int(0, bytes.length);
  switch (random.int(0, 5)) {
    case 0:
      return [...bytes.slice(0, at), ...enc.encode(random.pick(NOISE)), ...bytes.slice(at)];
    case 1:
      return [...bytes.slice(0, at), random.int(0, 255), ...bytes.slice(at + 1)];
    case 2:
      return [...bytes.slice(0, at), ...bytes.slice(at + random.int(1, 8))];
    case 3:
      return [
        ...bytes.slice(0, at),
        ...Array(random.size(600)).fill(random.pick([0x28, 0x29, 0x41, 0x22, 0xc3])),
      ];
    case 4:
      return bytes.slice(0, at);
    default:
      return [...bytes.slice(0, at), ...bytes.slice(Math.max(0, at - 10), at), ...bytes.slice(at)];
  }
}

function hugeSet(random: Random): string {
  if (random.chance(0.5)) return "1:4294967295";
  return Array.from({ length: random.int(1, 200) }, (_, i) => `${i + 1}:${i * 3 + 2}`).join(",");
}

/** Pushes `bytes` in random chunks, checking the invariants; returns the events. */
function feed(random: Random, decoder: ImapCommandDecoder, bytes: Uint8Array, round: number): DecodeEvent[] {
  const events: DecodeEvent[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = random.chance(0.2) ? bytes.length - at : random.int(1, 40);
    const chunk = bytes.subarray(at, at + size);
    at += chunk.length;
    let got = decoder.push(chunk);
    for (;;) {
      const held = decoder.buffered();
      const bound = LIMITS.maxLine + 1 + LIMITS.maxAppendLiteral + chunk.length;
      assert.ok(held <= bound, `seed ${SEED} round ${round}: holds ${held} bytes, more than ${bound}`);
      for (const event of got) check(event, round);
      events.push(...got);
      if (got.length === 0) break;
      if (random.chance(0.1)) decoder.lineMode(true);
      got = decoder.push(new Uint8Array(0));
    }
  }
  return events;
}

function check(event: DecodeEvent, round: number): void {
  const where = `seed ${SEED} round ${round}: ${Deno.inspect(event)}`;
  if (event.type === "bad" || event.type === "tooBig") {
    assert.ok(event.text.length > 0 && !/[\r\n]/.test(event.text), where);
    if (event.tag !== undefined) assert.match(event.tag, TAG, where);
  }
  if (event.type === "command") assert.match(event.command.tag, TAG, where);
}

Deno.test(`IMAP decoder fuzz: never throws, stays within its limits, always resynchronizes (seed ${SEED})`, () => {
  console.log(`IMAP decoder fuzz seed ${SEED}, ${ROUNDS} rounds (replay with POSTERN_FUZZ_SEED=${SEED})`);
  const random = new Random(SEED);
  let decoder = createCommandDecoder(LIMITS);
  const seen = { command: 0, bad: 0, tooBig: 0, closed: 0, line: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    decoder.utf8(random.chance(0.3));
    let closed = false;
    for (const event of feed(random, decoder, roundBytes(random), round)) {
      if (event.type in seen) seen[event.type as keyof typeof seen]++;
      if (event.type === "tooBig" && event.close) closed = true;
    }
    // A pending literal is at most maxAppendLiteral bytes: that many CRLFs end any command.
    const resync = feed(
      random,
      decoder,
      enc.encode("\r\n".repeat(LIMITS.maxAppendLiteral) + "zz NOOP\r\n"),
      round,
    );
    if (closed || resync.some((event) => event.type === "tooBig" && event.close)) {
      seen.closed++;
      decoder = createCommandDecoder(LIMITS); // the session closes; a new connection starts clean
      continue;
    }
    if (decoder.push(new Uint8Array(0)).length > 0) {
      assert.fail(`seed ${SEED} round ${round}: events after NOOP`);
    }
    const last = resync.filter((event) => event.type !== "continue").at(-1);
    assert.deepEqual(
      last,
      { type: "command", command: { tag: "zz", uid: false, body: { name: "NOOP" } } },
      [
        `seed ${SEED} round ${round}: no NOOP after garbage`,
        Deno.inspect(resync.slice(-3)),
      ].join("\n"),
    );
  }
  console.log(`events: ${JSON.stringify(seen)}`);
  assert.ok(seen.command > 0 && seen.bad > 0, "the fuzz exercised both valid and refused commands");
});
