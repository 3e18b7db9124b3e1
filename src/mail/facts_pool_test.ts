import assert from "node:assert/strict";
import { FactsPool } from "./facts_pool.ts";
import { bareLineFeeds, messageFacts } from "./message_facts.ts";
import { PARSE_LIMITS } from "./parse_pool.ts";

const encoder = new TextEncoder();

/** The test corpus, and variants of its messages with bare LFs (their IMAP size is not their size). */
async function messages(): Promise<Uint8Array[]> {
  const found: Uint8Array[] = [];
  const dir = new URL("../../test/corpus/", import.meta.url);
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".eml")) continue;
    const bytes = await Deno.readFile(new URL(entry.name, dir));
    found.push(bytes, encoder.encode(new TextDecoder().decode(bytes).replaceAll("\r\n", "\n")));
  }
  found.push(
    encoder.encode("\nStarts with a bare LF\r\n"),
    encoder.encode("Subject: mixed\r\n\r\none\ntwo\r\nthree\n"),
    encoder.encode(""),
  );
  return found;
}

/** What parsing in place gives: the facts, and the IMAP size (null when it is the size). */
function inPlace(message: Uint8Array) {
  const bare = bareLineFeeds(message);
  return { facts: messageFacts(message), imapSize: bare === 0 ? null : message.length + bare };
}

Deno.test("a batch parsed on the worker has the facts and IMAP sizes of the same messages parsed in place", async () => {
  const batch = await messages();
  assert.ok(batch.some((m) => bareLineFeeds(m) > 0) && batch.some((m) => m.length > 0 && !bareLineFeeds(m)));
  const pool = new FactsPool({ cores: 2 });
  try {
    assert.deepEqual(await pool.factsOf(batch), batch.map(inPlace));
    // Batches sent together are answered each with its own messages.
    const [first, second] = await Promise.all([
      pool.factsOf(batch.slice(0, 5)),
      pool.factsOf(batch.slice(5)),
    ]);
    assert.deepEqual([...first, ...second], batch.map(inPlace));
  } finally {
    pool.close();
  }
});

Deno.test("on one core, for a single message and after close, messages are parsed in place with the same facts", async () => {
  const batch = await messages();
  const oneCore = new FactsPool({ cores: 1 });
  assert.deepEqual(await oneCore.factsOf(batch), batch.map(inPlace));
  oneCore.close();
  const pool = new FactsPool({ cores: 2 });
  assert.deepEqual(await pool.factsOf(batch.slice(0, 1)), batch.slice(0, 1).map(inPlace));
  pool.close();
  assert.deepEqual(await pool.factsOf(batch), batch.map(inPlace));
});

Deno.test("a message over the inline limit keeps its own worker and comes back in its place in the batch", async () => {
  const line = "word ".repeat(15) + "\n";
  const large = encoder.encode(
    "Subject: large\nMessage-ID: <large@x.test>\n\n" +
      line.repeat(Math.ceil(PARSE_LIMITS.inlineBytes / line.length)),
  );
  assert.ok(large.length > PARSE_LIMITS.inlineBytes);
  const batch = [...(await messages()).slice(0, 3), large, ...(await messages()).slice(3, 6)];
  const pool = new FactsPool({ cores: 2 });
  try {
    assert.deepEqual(await pool.factsOf(batch), batch.map(inPlace));
  } finally {
    pool.close();
  }
});
