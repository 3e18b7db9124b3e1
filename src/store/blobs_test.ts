import assert from "node:assert/strict";
import { type NewUpload, sqliteBlobs, type StoredBlob } from "./blobs.ts";
import { Db } from "./db.ts";
import { openConnection } from "./connection.ts";

const encoder = new TextEncoder();

/** A database with one account (id 1), its blob repository, and the directory removed afterwards. */
async function withStore(body: (db: Db, blobs: ReturnType<typeof sqliteBlobs>) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "postern-blobs-" });
  const db = new Db(openConnection(`${dir}/test.db`));
  try {
    db.raw.exec(`
      INSERT INTO domains (id, name, created_at) VALUES (1, 'example.org', 0);
      INSERT INTO accounts (id, name, type, domain_id, secret, created_at, updated_at) VALUES (1, 'a', 'User', 1, x'00', 0, 0);
    `);
    await body(db, sqliteBlobs(db));
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("uploads put in one transaction store each content once and link each upload", () =>
  withStore(async (db, blobs) => {
    const upload = (content: string, type: string, hash = content) => ({
      accountId: 1,
      uploaderId: 1,
      hash: encoder.encode(hash.padEnd(32, ".")),
      data: encoder.encode(content),
      type,
      now: 0,
      expiresAt: 1000,
    });
    const put = async (uploads: NewUpload[]) => {
      const results = await blobs.putUploads(uploads);
      assert.ok(results.every((r) => !(r instanceof Error)), String(results));
      return results as StoredBlob[];
    };
    const stored = await put([upload("one", "text/plain"), upload("two", "text/plain")]);
    const [again, three, twice] = await put([
      upload("one", "text/markdown"),
      upload("three!", "text/plain"),
      upload("three!", "text/html"),
    ]);
    assert.equal(again.id, stored[0].id, "stored content keeps its blob");
    assert.equal(twice.id, three.id, "content new in the same transaction is stored once");
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
  }));

Deno.test("an upload refused in a shared transaction leaves nothing behind and the others are stored", () =>
  withStore(async (db, blobs) => {
    const upload = (content: string, accountId: number): NewUpload => ({
      accountId,
      uploaderId: accountId,
      hash: encoder.encode(content.padEnd(32, ".")),
      data: encoder.encode(content),
      type: "text/plain",
      now: 0,
      expiresAt: 1000,
    });
    // Account 2 does not exist (deleted while its upload was on its way): its link breaks a foreign key.
    const [first, gone, last] = await blobs.putUploads([
      upload("one", 1),
      upload("two", 2),
      upload("three", 1),
    ]);
    assert.ok(gone instanceof Error && /FOREIGN KEY/.test(gone.message), String(gone));
    assert.ok(!(first instanceof Error) && !(last instanceof Error));
    const rows = (sql: string) => db.all<Record<string, number | string>>(sql).map((row) => ({ ...row }));
    assert.deepEqual(
      rows("SELECT size FROM blobs ORDER BY id"),
      [{ size: 3 }, { size: 5 }],
      "no blob of the refused one",
    );
    assert.deepEqual(rows("SELECT blob_id FROM uploads ORDER BY blob_id"), [{ blob_id: first.id }, {
      blob_id: last.id,
    }]);
  }));
