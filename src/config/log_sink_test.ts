import assert from "node:assert/strict";
import type { LogLevel, LogRecord } from "@logtape/logtape";
import { ATOMIC_WRITE_BYTES, atomicPieces, coalescingSink } from "./log_sink.ts";

const record = (text: string, level: LogLevel = "info") =>
  ({ message: [text], level }) as unknown as LogRecord;
const line = (r: LogRecord) => `${r.message[0]}\n`;
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A stream whose writes finish only when released, recording what each write carried. */
function slowStream() {
  const writes: string[] = [];
  const releases: (() => void)[] = [];
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      writes.push(new TextDecoder().decode(chunk));
      return new Promise<void>((resolve) => releases.push(resolve));
    },
  });
  const releaseAll = async () => {
    while (releases.length) {
      releases.shift()!();
      await tick();
    }
  };
  return { stream, writes, releaseAll };
}

/** A stream recording each write, finishing it at once. */
function recordingStream() {
  const writes: string[] = [];
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      writes.push(new TextDecoder().decode(chunk));
    },
  });
  return { stream, writes };
}

/** Polls until `done` holds (generous: a loaded machine runs timers late). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(done(), "the condition never held");
}

Deno.test("info lines wait for the delay and go out together, in order", async () => {
  const { stream, writes } = recordingStream();
  const sink = coalescingSink(stream, line, { delayMs: 200 });
  for (const text of ["one", "two", "three"]) sink(record(text));
  await tick();
  assert.deepEqual(writes, [], "nothing is written before the delay");
  await until(() => writes.length > 0);
  assert.deepEqual(writes, ["one\ntwo\nthree\n"]);
  await sink[Symbol.asyncDispose]();
});

Deno.test("a warning is written at once, after the lines that wait before it", async () => {
  const { stream, writes } = recordingStream();
  const sink = coalescingSink(stream, line, { delayMs: 60_000 });
  sink(record("request"));
  sink(record("fault", "warning"));
  await until(() => writes.length > 0);
  assert.deepEqual(writes, ["request\nfault\n"]);
  sink(record("failed start", "error"));
  await until(() => writes.length > 1);
  assert.deepEqual(writes, ["request\nfault\n", "failed start\n"]);
  await sink[Symbol.asyncDispose]();
});

Deno.test("lines logged during a write are joined into the next one, in order, none dropped", async () => {
  const { stream, writes, releaseAll } = slowStream();
  const sink = coalescingSink(stream, line, { delayMs: 60_000 });
  sink(record("one", "warning"));
  await tick();
  for (const text of ["two", "three"]) sink(record(text));
  sink(record("four", "error"));
  await releaseAll();
  await until(() => writes.length === 2);
  await releaseAll();
  await sink[Symbol.asyncDispose]();
  assert.deepEqual(writes, ["one\n", "two\nthree\nfour\n"]);
});

Deno.test("disposal writes the lines still waiting without waiting for the delay", async () => {
  const { stream, writes } = recordingStream();
  const sink = coalescingSink(stream, line, { delayMs: 60_000 });
  sink(record("last words"));
  await sink[Symbol.asyncDispose]();
  assert.deepEqual(writes, ["last words\n"]);
});

Deno.test("a large batch is written without waiting for the delay", async () => {
  const { stream, writes } = recordingStream();
  const sink = coalescingSink(stream, line, { delayMs: 60_000 });
  const long = "x".repeat(1000);
  for (let i = 0; i < 70; i++) sink(record(long));
  await until(() => writes.join("").length >= 66 * 1001);
  assert.equal(writes.join("").length, 66 * 1001, "written once 64 KiB wait, the rest waits");
  await sink[Symbol.asyncDispose]();
  assert.equal(writes.join("").length, 70 * 1001);
});

Deno.test("a stream that refuses writes never fails the code that logs", async () => {
  const tried: string[] = [];
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      tried.push(new TextDecoder().decode(chunk));
      if (tried.length === 1) throw new Error("stderr is gone");
    },
  });
  const sink = coalescingSink(stream, line, { delayMs: 0 });
  sink(record("lost"));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.doesNotThrow(() => sink(record("after")));
  await sink[Symbol.asyncDispose]();
  assert.deepEqual(tried, ["lost\n"], "an errored stream takes no more writes, and says nothing");
});

Deno.test("a batch goes out in writes of whole lines of at most 4 KiB, in order", async () => {
  const { stream, writes } = recordingStream();
  const sink = coalescingSink(stream, line, { delayMs: 60_000 });
  const lines = Array.from({ length: 100 }, (_, i) => `${i} ${"é".repeat(i % 37)}${"x".repeat(90)}`);
  for (const text of lines) sink(record(text));
  sink(record("y".repeat(5000)));
  sink(record("after the long line"));
  await sink[Symbol.asyncDispose]();
  assert.equal(writes.join(""), [...lines, "y".repeat(5000), "after the long line"].join("\n") + "\n");
  assert.ok(writes.length > 3);
  for (const write of writes) {
    assert.ok(write.endsWith("\n"), "every write ends a line");
    const bytes = new TextEncoder().encode(write).length;
    assert.ok(
      bytes <= ATOMIC_WRITE_BYTES || !write.slice(0, -1).includes("\n"),
      "only a long line goes alone",
    );
  }
});

Deno.test("atomicPieces cuts only after newlines", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  const decode = (pieces: Uint8Array[]) => pieces.map((p) => new TextDecoder().decode(p));
  assert.deepEqual(decode(atomicPieces(text("a\nb\n"))), ["a\nb\n"]);
  const long = "z".repeat(ATOMIC_WRITE_BYTES + 10);
  assert.deepEqual(decode(atomicPieces(text(`a\n${long}\nb\n`))), ["a\n", `${long}\n`, "b\n"]);
  const full = "q".repeat(ATOMIC_WRITE_BYTES - 1) + "\n";
  assert.deepEqual(decode(atomicPieces(text(full + "r\n"))), [full, "r\n"]);
  assert.deepEqual(atomicPieces(new Uint8Array()), []);
});

Deno.test("with no piece limit a batch goes out in one write, whole lines in order", async () => {
  const { stream, writes } = recordingStream();
  const sink = coalescingSink(stream, line, { delayMs: 60_000, pieceBytes: Number.POSITIVE_INFINITY });
  const lines = Array.from({ length: 100 }, (_, i) => `${i} ${"x".repeat(90)}`);
  for (const text of lines) sink(record(text));
  await sink[Symbol.asyncDispose]();
  assert.deepEqual(writes, [lines.join("\n") + "\n"]);
});
