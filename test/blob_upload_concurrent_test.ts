/**
 * Uploads sent at once (a client uploads on several connections, up to the session's
 * maxConcurrentUpload): each is answered with its own blob, readable by its own uploader, the same
 * bytes are stored once, and a refused upload leaves the others sent with it alone.
 */
import assert from "node:assert/strict";
import { blobRows } from "./email_helpers.ts";
import { adminSetAccounts, type Obj, type Who, withAliceAndBob } from "./mail_helpers.ts";
import type { TestApp } from "./helpers.ts";

const encoder = new TextEncoder();

async function upload(
  t: TestApp,
  who: Who,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<{ status: number; body: Obj }> {
  const response = await t.fetch(`/jmap/upload/${who.accountId}/`, {
    method: "POST",
    headers: { authorization: who.auth, "content-type": "message/rfc822" },
    body: bytes,
  });
  return { status: response.status, body: await response.json() };
}

async function download(
  t: TestApp,
  who: Who,
  blobId: string,
): Promise<{ status: number; bytes: Uint8Array }> {
  const response = await t.fetch(`/jmap/download/${who.accountId}/${blobId}/m.eml`, {
    headers: { authorization: who.auth },
  });
  return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()) };
}

Deno.test("uploads sent at once by two accounts are each stored, answered and read back as their own", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const before = blobRows(t);
    const contents = Array.from(
      { length: 6 },
      (_, i) => encoder.encode(`Subject: upload ${i}\r\n\r\n${"x".repeat(i * 1000)}`),
    );
    // Alice's six and Bob's first three (the same bytes as three of Alice's) all at once.
    const sent = [
      ...contents.map((bytes) => ({ who: alice, bytes })),
      ...contents.slice(0, 3).map((bytes) => ({ who: bob, bytes })),
    ];
    const answers = await Promise.all(sent.map(({ who, bytes }) => upload(t, who, bytes)));
    for (const [i, answer] of answers.entries()) {
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.equal(answer.body.size, sent[i].bytes.length);
      assert.equal(answer.body.accountId, sent[i].who.accountId);
    }
    assert.equal(new Set(answers.map((a) => a.body.blobId)).size, contents.length);
    assert.equal(answers[6].body.blobId, answers[0].body.blobId, "the same bytes are one blob");
    assert.equal(blobRows(t), before + contents.length);
    for (const [i, answer] of answers.entries()) {
      const got = await download(t, sent[i].who, answer.body.blobId as string);
      assert.equal(got.status, 200);
      assert.deepEqual(got.bytes, sent[i].bytes);
    }
    // Bob uploaded only three of them: the others are not his to read.
    assert.equal((await download(t, bob, answers[5].body.blobId as string)).status, 404);
  });
});

Deno.test("an upload over its quota is refused while the uploads sent with it are stored", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    await adminSetAccounts(t, { update: { [bob.accountId]: { quotas: { maxDiskQuota: 1000 } } } });
    const before = blobRows(t);
    const [big, ...small] = await Promise.all([
      upload(t, bob, new Uint8Array(2000).fill(7)),
      upload(t, alice, new Uint8Array(2000).fill(7)),
      upload(t, alice, new Uint8Array(600).fill(8)),
      upload(t, bob, new Uint8Array(600).fill(9)),
    ]);
    assert.equal(big.status, 413, JSON.stringify(big.body));
    assert.deepEqual(small.map((s) => s.status), [201, 201, 201]);
    assert.equal(blobRows(t), before + 3);
    assert.equal((await download(t, bob, small[0].body.blobId as string)).status, 404);
    assert.equal((await download(t, bob, small[2].body.blobId as string)).status, 200);
  });
});
