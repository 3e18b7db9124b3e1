/**
 * The IMAP command decoder's speed (src/imap/decoder.ts): commands per second for a typical client
 * FETCH (imapflow's, with header fields and a partial), a SEARCH with OR and a date, and an APPEND of
 * a 10 KB message sent as a LITERAL+ literal, each pushed whole into one long-lived decoder (framing,
 * parsing, the AST). Baselines measured in the same run: imapflow's own tokenizer on the same
 * line (lib/handler/imap-parser.js: tokens only, no meaning), and for APPEND copying the bytes once.
 * Prints the median of interleaved rounds.
 *
 *   deno run -A scripts/bench/imap_decoder.ts [--rounds 7] [--calls 20000]
 */
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import imapParser from "imapflow/lib/handler/imap-parser.js";
import { createCommandDecoder } from "../../src/imap/decoder.ts";
import { median, printTable } from "./report.ts";

const args = parseArgs({ options: { rounds: { type: "string" }, calls: { type: "string" } } });
const rounds = Number(args.values.rounds ?? 7);
const calls = Number(args.values.calls ?? 20_000);
const enc = new TextEncoder();
const tokenize = imapParser as unknown as (line: Buffer, options?: object) => Promise<unknown>;

const fetchLine = "A123 UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE INTERNALDATE RFC822.SIZE " +
  "BODY.PEEK[HEADER.FIELDS (DATE FROM TO CC SUBJECT MESSAGE-ID)] BODY.PEEK[1]<0.2048>) (CHANGEDSINCE 12345)";
const searchLine =
  'A124 UID SEARCH RETURN (MIN MAX COUNT) OR (FROM "alice" SINCE 1-Feb-2024) NOT SEEN UID 1:5000';
const message = "Subject: bench\r\n\r\n" + "x".repeat(10_000 - 20) + "\r\n";
const appendBytes = enc.encode(`A125 APPEND INBOX (\\Seen) {${message.length}+}\r\n${message}\r\n`);
const decoder = createCommandDecoder({ maxLine: 65536, maxAppendLiteral: 50 << 20, maxLiteral: 65536 });

function decodeOne(bytes: Uint8Array): void {
  const events = decoder.push(bytes);
  if (events.length !== 1 || events[0].type !== "command") {
    throw new Error(`Not decoded: ${Deno.inspect(events)}`);
  }
}

type Case = { name: string; variants: Record<string, () => unknown> };
const fetchBytes = enc.encode(fetchLine + "\r\n");
const searchBytes = enc.encode(searchLine + "\r\n");
const fetchBuffer = Buffer.from(fetchLine);
const searchBuffer = Buffer.from(searchLine);
const cases: Case[] = [
  {
    name: "FETCH (imapflow's items)",
    variants: {
      "postern decoder": () => decodeOne(fetchBytes),
      "imapflow tokenizer": () => tokenize(fetchBuffer),
    },
  },
  {
    name: "SEARCH with OR, NOT, date",
    variants: {
      "postern decoder": () => decodeOne(searchBytes),
      "imapflow tokenizer": () => tokenize(searchBuffer),
    },
  },
  {
    name: "APPEND 10 KB, LITERAL+",
    variants: {
      "postern decoder": () => decodeOne(appendBytes),
      "copy the bytes once": () => appendBytes.slice(),
    },
  },
];

const rows: string[][] = [];
for (const { name, variants } of cases) {
  const order = Object.keys(variants);
  const times: Record<string, number[]> = Object.fromEntries(order.map((v) => [v, []]));
  for (let round = -1; round < rounds; round++) {
    for (const variant of round % 2 ? order : order.toReversed()) {
      const run = variants[variant];
      const start = performance.now();
      for (let i = 0; i < calls; i++) {
        const result = run();
        if (result instanceof Promise) await result;
      }
      // Round -1 warms every variant up and is not counted.
      if (round >= 0) times[variant].push((performance.now() - start) / calls);
    }
  }
  const medians = Object.fromEntries(order.map((v) => [v, median(times[v])]));
  const baseline = medians[order[1]];
  for (const variant of order) {
    const perSecond = Math.round(1000 / medians[variant]).toLocaleString("en");
    rows.push([name, variant, perSecond, `${(medians[variant] / baseline).toFixed(2)}×`]);
  }
}
printTable(["command", "implementation", "commands/s", "time vs baseline"], rows);
