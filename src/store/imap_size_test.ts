import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { MIGRATIONS } from "./migrations/mod.ts";
import { sqliteEmails } from "./emails.ts";
import { Db } from "./db.ts";
import { openConnection } from "./connection.ts";

const IMAP_SIZE = MIGRATIONS.findIndex((sql) => sql.includes("ADD COLUMN imap_size"));
const encode = (text: string) => new TextEncoder().encode(text);

/** The size FETCH BODY[] serves: every bare LF made CRLF (src/imap/render/message_tree.ts). */
function served(bytes: Uint8Array): number {
  let bare = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10 && (i === 0 || bytes[i - 1] !== 13)) bare++;
  return bytes.length + bare;
}

const MESSAGES = [
  encode("Subject: crlf\r\n\r\nbody\r\n"),
  encode("Subject: lf\n\nbody\nmore\n"),
  encode("Subject: mixed\r\n\nbody\r\nmore\n"),
  new Uint8Array([...encode("Subject: 8bit\n\n"), 0, 0xff, 0xc3, 0x0a, 0x0d, 0x0d, 0x0a, 0x80, 0x0a]),
];

Deno.test("the migration measures messages already stored: IMAP size where bare LFs make it differ, else NULL", () => {
  const db = new DatabaseSync(":memory:");
  for (const sql of MIGRATIONS.slice(0, IMAP_SIZE)) db.exec(sql);
  db.exec(`
    INSERT INTO domains (id, name, created_at) VALUES (1, 'example.org', 0);
    INSERT INTO accounts (id, name, type, domain_id, secret, created_at, updated_at) VALUES (1, 'a', 'User', 1, x'00', 0, 0);
    INSERT INTO threads (id, account_id) VALUES (1, 1);
  `);
  MESSAGES.forEach((bytes, i) => {
    db.prepare("INSERT INTO blobs (id, hash, size, data, created_at) VALUES (?, ?, ?, ?, 0)")
      .run(i + 1, new Uint8Array([i]), bytes.length, bytes);
    db.prepare(
      `INSERT INTO emails (id, account_id, thread_id, blob_id, size, received_at, subject, base_subject, from_sort,
         to_sort, has_attachment, preview, headers, created_at) VALUES (?, 1, 1, ?, ?, 0, '', '', '', '', 0, '', '{}', 0)`,
    ).run(i + 1, i + 1, bytes.length);
  });
  db.exec(MIGRATIONS[IMAP_SIZE]);
  const got = db.prepare("SELECT imap_size FROM emails ORDER BY id").all().map((r) => r.imap_size);
  assert.deepEqual(got, MESSAGES.map((m) => served(m) === m.length ? null : served(m)));
  db.close();
});

Deno.test("an email inserted with bare LFs gets its IMAP size in the same statement, measured or given", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-imap-size-" });
  try {
    const db = new Db(openConnection(`${dir}/test.db`));
    db.raw.exec(`
      INSERT INTO domains (id, name, created_at) VALUES (1, 'example.org', 0);
      INSERT INTO accounts (id, name, type, domain_id, secret, created_at, updated_at) VALUES (1, 'a', 'User', 1, x'00', 0, 0);
    `);
    const emails = sqliteEmails(db);
    for (const [i, bytes] of MESSAGES.entries()) {
      const blobId = db.run(
        "INSERT INTO blobs (hash, size, data, created_at) VALUES (?, ?, ?, 0)",
        new Uint8Array([i]),
        bytes.length,
        bytes,
      ).id;
      const counted = served(bytes) === bytes.length ? null : served(bytes);
      // An email of just these bytes: nothing else of it matters to the IMAP size.
      const bare = (more: { imapSize?: number | null } = {}) =>
        ({
          accountId: 1,
          blobId,
          size: bytes.length,
          ...more,
          receivedAt: 0,
          sentAt: null,
          sentMs: null,
          subject: "",
          baseSubject: "",
          fromSort: "",
          toSort: "",
          hasAttachment: false,
          preview: "",
          headers: "{}",
          keywords: [],
          mailboxIds: [],
          threadIds: [],
        }) as unknown as Parameters<typeof emails.insert>[0];
      const { id } = await emails.insert(bare(), 0);
      // The same message with its IMAP size counted by the caller (as messageFacts does) is stored alike.
      const given = await emails.insert(bare({ imapSize: counted }), 0);
      const row = db.get<{ imap_size: number | null }>("SELECT imap_size FROM emails WHERE id = ?", id);
      assert.equal(row?.imap_size ?? bytes.length, served(bytes), `message ${i}`);
      const other = db.get<{ imap_size: number | null }>(
        "SELECT imap_size FROM emails WHERE id = ?",
        given.id,
      );
      assert.equal(other?.imap_size, row?.imap_size, `message ${i}, its IMAP size given`);
    }
    db.raw.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
