import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { coalescingSink } from "./log_sink.ts";

const record = (text: string) => ({ message: [text] }) as unknown as LogRecord;
const line = (r: LogRecord) => `${r.message[0]}\n`;

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
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };
  return { stream, writes, releaseAll };
}

Deno.test("lines logged during a write are joined into the next one, in order, none dropped", async () => {
  const { stream, writes, releaseAll } = slowStream();
  const sink = coalescingSink(stream, line);
  sink(record("one"));
  await new Promise((resolve) => setTimeout(resolve, 0));
  for (const text of ["two", "three", "four"]) sink(record(text));
  await releaseAll();
  await sink[Symbol.asyncDispose]();
  assert.deepEqual(writes, ["one\n", "two\nthree\nfour\n"]);
});

Deno.test("lines logged in one turn of the event loop go out in one write, in order", async () => {
  const writes: string[] = [];
  const stream = new WritableStream<Uint8Array>({
    write: (chunk) => void writes.push(new TextDecoder().decode(chunk)),
  });
  const sink = coalescingSink(stream, line);
  for (const text of ["a", "b", "c"]) sink(record(text));
  assert.deepEqual(writes, [], "nothing is written before the turn ends");
  await new Promise((resolve) => setTimeout(resolve, 10));
  sink(record("d"));
  await sink[Symbol.asyncDispose]();
  assert.deepEqual(writes, ["a\nb\nc\n", "d\n"], "disposal writes what is still pending");
});

Deno.test("a stream that refuses writes never fails the code that logs", async () => {
  const tried: string[] = [];
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      tried.push(new TextDecoder().decode(chunk));
      if (tried.length === 1) throw new Error("stderr is gone");
    },
  });
  const sink = coalescingSink(stream, line);
  sink(record("lost"));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.doesNotThrow(() => sink(record("after")));
  await sink[Symbol.asyncDispose]();
  assert.deepEqual(tried, ["lost\n"], "an errored stream takes no more writes, and says nothing");
});
