import assert from "node:assert/strict";
import { sqliteBlobs } from "./blobs.ts";
import { Db } from "./db.ts";
import { openConnection } from "./connection.ts";

const encoder = new TextEncoder();

Deno.test("uploads store each content once, answer its id whether new or stored, and link each upload", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-blobs-" });
  const db = new Db(openConnection(`${dir}/test.db`));
  try {
    db.raw.exec(`
      INSERT INTO domains (id, name, created_at) VALUES (1, 'example.org', 0);
      INSERT INTO accounts (id, name, type, domain_id, secret, created_at, updated_at) VALUES (1, 'a', 'User', 1, x'00', 0, 0);
    `);
    const blobs = sqliteBlobs(db);
    const upload = (content: string, type: string, hash = content) => ({
      accountId: 1,
      uploaderId: 1,
      hash: encoder.encode(hash.padEnd(32, ".")),
      data: encoder.encode(content),
      type,
      now: 0,
      expiresAt: 1000,
    });
    const put = (...uploads: ReturnType<typeof upload>[]) =>
      Promise.all(uploads.map((u) => blobs.putUpload(u)));
    const stored = await put(upload("one", "text/plain"), upload("two", "text/plain"));
    const [again, three, twice] = await put(
      upload("one", "text/markdown"),
      upload("three!", "text/plain"),
      upload("three!", "text/html"),
    );
    assert.equal(again.id, stored[0].id, "stored content keeps its blob");
    assert.equal(twice.id, three.id, "content stored a moment ago is stored once");
    assert.deepEqual([stored[0].size, stored[1].size, three.size], [3, 3, 6]);
    assert.equal(new Set([stored[0].id, stored[1].id, three.id]).size, 3);
    const rows = (sql: string) => db.all<Record<string, number | string>>(sql).map((row) => ({ ...row }));
    assert.deepEqual(rows("SELECT count(*) AS n FROM blobs"), [{ n: 3 }]);
    // A repeated upload of one account and uploader is one link, with the newest type.
    assert.deepEqual(rows("SELECT blob_id, type FROM uploads ORDER BY blob_id"), [
      { blob_id: stored[0].id, type: "text/markdown" },
      { blob_id: stored[1].id, type: "text/plain" },
      { blob_id: three.id, type: "text/html" },
    ]);
    assert.deepEqual(
      await blobs.read({ accountId: 1, viewerId: 1 }, three.hash, 1),
      encoder.encode("three!"),
    );
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
