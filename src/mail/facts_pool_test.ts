import assert from "node:assert/strict";
import { FactsPool } from "./facts_pool.ts";
import { parsedFacts } from "./message_facts.ts";

const CORPUS = new URL("../../test/corpus/", import.meta.url);

/** Every message of test/corpus (nested multiparts, broken boundaries, 8-bit headers…), and bare LFs. */
async function corpus(): Promise<Uint8Array[]> {
  const messages: Uint8Array[] = [];
  for await (const entry of Deno.readDir(CORPUS)) {
    if (entry.name.endsWith(".eml")) messages.push(await Deno.readFile(new URL(entry.name, CORPUS)));
  }
  messages.sort((a, b) => a.length - b.length);
  messages.push(new TextEncoder().encode("Subject: bare\nFrom: a@example.org\n\nline one\nline two\r\n"));
  return messages;
}

/** Parses `messages` until the worker has answered a batch (it loads while the first ones are parsed here). */
async function parsedByWorker(pool: FactsPool, messages: Uint8Array[]) {
  for (let tries = 0; tries < 600; tries++) {
    const before = pool.stats.worker;
    const parsed = await pool.parse(messages);
    if (pool.stats.worker > before) return parsed;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the worker never answered a batch");
}

Deno.test("a batch parsed in the worker has the facts and bare LFs the calling thread finds", async () => {
  const messages = await corpus();
  // The calling thread never takes a message over: every one is the worker's.
  const pool = new FactsPool({ helpAfterMs: 600_000, spareCore: () => true });
  try {
    const parsed = await parsedByWorker(pool, messages);
    assert.equal(parsed.length, messages.length);
    parsed.forEach((answer, i) => assert.deepEqual(answer, parsedFacts(messages[i]), `message ${i}`));
    assert.equal(parsed.at(-1)!.bareLineFeeds, 4);
  } finally {
    pool.close();
  }
});

Deno.test("a single message is parsed on the calling thread, a batch of several in the worker", async () => {
  const messages = (await corpus()).slice(0, 3);
  const pool = new FactsPool({ spareCore: () => true });
  try {
    await parsedByWorker(pool, messages);
    const inline = pool.stats.inline;
    assert.deepEqual(await pool.parse(messages.slice(0, 1)), [parsedFacts(messages[0])]);
    assert.equal(pool.stats.inline, inline + 1);
  } finally {
    pool.close();
  }
});

Deno.test("with a worker that fails to load, every batch is parsed on the calling thread", async () => {
  const messages = (await corpus()).slice(0, 4);
  const broken = `data:text/javascript,${encodeURIComponent("throw new Error('cannot load');")}`;
  const pool = new FactsPool({ module: broken, spareCore: () => true });
  try {
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(await pool.parse(messages), messages.map(parsedFacts));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(pool.stats.worker, 0);
  } finally {
    pool.close();
  }
});

Deno.test("a batch the worker cannot parse gets the calling thread's answer", async () => {
  // A worker that loads, then fails every batch: the batch is parsed here instead.
  const failing = `data:text/javascript,${
    encodeURIComponent(
      "onmessage = (e) => postMessage('hello' in e.data ? { ready: true } : { id: e.data.id, error: 'no' });",
    )
  }`;
  const messages = (await corpus()).slice(0, 2);
  const pool = new FactsPool({ module: failing, spareCore: () => true });
  try {
    await parsedByWorker(pool, messages);
    assert.deepEqual(await pool.parse(messages), messages.map(parsedFacts));
  } finally {
    pool.close();
  }
});

Deno.test("a batch the worker does not get to is parsed on the calling thread, a message at a time", async () => {
  // A worker that loads, then never takes a message (as one waiting for a core on a loaded machine).
  const stalled = `data:text/javascript,${
    encodeURIComponent("onmessage = (e) => { if ('hello' in e.data) postMessage({ ready: true }); };")
  }`;
  const messages = await corpus();
  const pool = new FactsPool({ module: stalled, spareCore: () => true });
  try {
    // Inline while the worker loads; then the batches go to it, and the calling thread takes them over.
    for (let tries = 0; tries < 600 && pool.stats.worker === 0; tries++) {
      assert.deepEqual(await pool.parse(messages), messages.map(parsedFacts));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(pool.stats.worker > 0);
  } finally {
    pool.close();
  }
});

Deno.test("without a core to spare, batches are parsed on the calling thread and no worker starts", async () => {
  const messages = (await corpus()).slice(0, 4);
  let spare = false;
  const pool = new FactsPool({ spareCore: () => spare });
  try {
    for (let i = 0; i < 3; i++) assert.deepEqual(await pool.parse(messages), messages.map(parsedFacts));
    assert.deepEqual(pool.stats, { worker: 0, inline: 3 });
    spare = true;
    await parsedByWorker(pool, messages);
  } finally {
    pool.close();
  }
});

Deno.test("after close, batches are parsed on the calling thread", async () => {
  const messages = (await corpus()).slice(0, 2);
  const pool = new FactsPool();
  pool.close();
  assert.deepEqual(await pool.parse(messages), messages.map(parsedFacts));
  assert.deepEqual(pool.stats, { worker: 0, inline: 1 });
});
