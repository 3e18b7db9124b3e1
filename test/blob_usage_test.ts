/**
 * The storage an account uses (maxDiskQuota, Quota/get) is kept by the database as links come and go:
 * each email counts its message (two emails of the same octets count twice, as Dovecot counts
 * copies), and each blob the account uploaded that none of its emails files counts once, until its
 * upload is collected; collection removes expired uploads and then exactly the blobs nothing links
 * any more. `postern db check` recounts and finds (and repairs) a figure that is wrong.
 */
import assert from "node:assert/strict";
import { bootstrap } from "../src/directory/mod.ts";
import { UPLOAD_TTL_MS } from "../src/mail/mod.ts";
import { QuotaError } from "../src/model/errors.ts";
import { openServices, type Services } from "../src/services.ts";
import { sql as accountUsage } from "../src/store/migrations/021_account_usage.ts";
import { sql as imap } from "../src/store/migrations/041_imap.ts";
import { MIGRATIONS } from "../src/store/migrations/mod.ts";

const message = (subject: string, padding: number) =>
  new TextEncoder().encode(
    `From: a@example.net\r\nTo: admin@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@x>\r\n\r\n${
      "x".repeat(padding)
    }\r\n`,
  );

Deno.test("used bytes follow uploads, imports, destroys and collection, per account, each blob once", async () => {
  const dir = await Deno.makeTempDir();
  const services = await openServices({
    databasePath: `${dir}/postern.db`,
    encryptionKey: new Uint8Array(64),
    hashWorkers: 1,
  });
  try {
    await bootstrap(services, { domain: "example.org", adminPassword: "admin password for tests" });
    const [admin] = await services.accounts.query({});
    const domain = await services.domains.getByName("example.org");
    const other = (await services.accounts.create({ type: "User", name: "other", domainId: domain!.id })).id;
    const inbox = (await services.mailboxes.list(admin, admin)).find((m) => m.role === "inbox")!.id;
    const a = message("a", 1000);
    const b = message("b", 3000);
    const used = (account: number) => services.blobs.usedBytes(account);
    const put = (account: number, data: Uint8Array) =>
      services.blobs.upload(account, account, { data, type: "message/rfc822" });

    const upA = await put(admin, a);
    await put(admin, b);
    await put(admin, b); // the same bytes again: one blob, counted once
    assert.equal(await used(admin), a.length + b.length);
    await put(other, a); // another account linking the same blob pays for it too
    assert.equal(await used(other), a.length);

    const [email] = await services.emails.import(admin, admin, [{
      blobId: upA.blobId,
      mailboxIds: [inbox],
      keywords: [],
    }]);
    assert.ok(!("type" in email));
    assert.equal(await used(admin), a.length + b.length, "filing an uploaded blob adds nothing");

    // Within the hour nothing is collected; after it, uploads go: b with them, a stays (an email).
    assert.deepEqual(await services.blobs.collect(Date.now() + UPLOAD_TTL_MS - 60_000), {
      uploads: 0,
      blobs: 0,
    });
    const collected = await services.blobs.collect(Date.now() + UPLOAD_TTL_MS + 1);
    assert.deepEqual(collected, { uploads: 3, blobs: 1 });
    assert.equal(await used(admin), a.length);
    assert.equal(await used(other), 0);

    await services.emails.destroy(admin, admin, email.id);
    assert.equal(await used(admin), 0);
    assert.deepEqual(
      await services.blobs.collect(),
      { uploads: 0, blobs: 1 },
      "the message goes with its email",
    );

    // A quota counts the same figure: the upload that would pass it is refused.
    await services.accounts.update(admin, { quotas: { maxDiskQuota: a.length + 10 } });
    await put(admin, a);
    await assert.rejects(put(admin, b), /maxDiskQuota/);
    assert.equal(await used(admin), a.length);
  } finally {
    await services.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The administrator of a new server with message `a` (1,000 bytes) filed in its Inbox from an upload and
 * message `b` (3,000 bytes) uploaded and filed nowhere.
 */
async function filedAndUploaded(services: Services, aText: string, bText: string) {
  await bootstrap(services, { domain: "example.org", adminPassword: "admin password for tests" });
  const [admin] = await services.accounts.query({});
  const inbox = (await services.mailboxes.list(admin, admin)).find((m) => m.role === "inbox")!.id;
  const a = message(aText, 1000);
  const b = message(bText, 3000);
  const upA = await services.blobs.upload(admin, admin, { data: a, type: "message/rfc822" });
  await services.emails.import(admin, admin, [{ blobId: upA.blobId, mailboxIds: [inbox], keywords: [] }]);
  await services.blobs.upload(admin, admin, { data: b, type: "message/rfc822" });
  return { admin, a, b };
}

Deno.test("migration 021 (account usage) counts what a database made before it already stores, and finds its orphans", async () => {
  const dir = await Deno.makeTempDir();
  const options = { databasePath: `${dir}/postern.db`, encryptionKey: new Uint8Array(64), hashWorkers: 1 };
  let services = await openServices(options);
  try {
    const { admin, a } = await filedAndUploaded(services, "a", "b");
    // Back to the schema before it: no counts, no orphan list; and one blob nothing links (as collection would find).
    services.store.unsafeExec(`
      DROP TRIGGER uploads_linked; DROP TRIGGER uploads_unlinked; DROP TRIGGER emails_linked;
      DROP TRIGGER emails_unlinked; DROP TABLE account_usage; DROP TABLE blob_orphans;
      DELETE FROM uploads WHERE blob_id = (SELECT max(id) FROM blobs);`);
    // Only that migration runs again, on what the old code stored (later ones are already applied).
    services.store.unsafeExec(accountUsage);
    await services.close();
    services = await openServices(options);
    assert.equal(await services.blobs.usedBytes(admin), a.length, "b lost its upload: only a counts");
    assert.deepEqual(await services.blobs.collect(), { uploads: 0, blobs: 1 });
  } finally {
    await services.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("each copy of the same message counts; deleting every copy frees the blob; db check recounts the same", async () => {
  const dir = await Deno.makeTempDir();
  const services = await openServices({
    databasePath: `${dir}/postern.db`,
    encryptionKey: new Uint8Array(64),
    hashWorkers: 1,
  });
  try {
    await bootstrap(services, { domain: "example.org", adminPassword: "admin password for tests" });
    const [admin] = await services.accounts.query({});
    const inbox = (await services.mailboxes.list(admin, admin)).find((m) => m.role === "inbox")!.id;
    const a = message("copies", 1000);
    const used = () => services.blobs.usedBytes(admin);
    const checked = async (bytes: number, label: string) => {
      assert.equal(await used(), bytes, label);
      const report = await services.store.integrity.check();
      assert.deepEqual(report.usage, [], label);
      assert.equal(report.ok, true, label);
    };
    const imap = services.imapMailboxes;
    const entry = (await imap.resolve(admin, "INBOX"))!;
    const ref = { accountId: entry.accountId, mailboxId: entry.mailboxId };

    const upload = await services.blobs.upload(admin, admin, { data: a, type: "message/rfc822" });
    await checked(a.length, "an upload counts once");
    const [first] = await services.emails.import(admin, admin, [{
      blobId: upload.blobId,
      mailboxIds: [inbox],
      keywords: [],
    }]);
    assert.ok(!("type" in first));
    await checked(a.length, "the email filed from the upload takes over its cost");
    const second = await imap.append(admin, ref, { message: a });
    const third = await imap.append(admin, ref, { message: a });
    assert.notEqual(second.uid, third.uid);
    await checked(3 * a.length, "each APPENDed copy counts");

    // Email/import keeps answering alreadyExists, with the oldest email of those octets.
    const [again] = await services.emails.import(admin, admin, [{
      blobId: upload.blobId,
      mailboxIds: [inbox],
      keywords: [],
    }]);
    assert.ok("type" in again && again.type === "alreadyExists");
    assert.equal(again.existingId, first.id);

    // A copy the quota has no room for is refused: copies are not free.
    await services.accounts.update(admin, { quotas: { maxDiskQuota: 3 * a.length + 10 } });
    await assert.rejects(imap.append(admin, ref, { message: a }), QuotaError);
    await services.accounts.update(admin, { quotas: {} });

    const emails = (await services.store.emails.inMailbox(inbox)).map((e) => e.id).sort((x, y) => x - y);
    assert.equal(emails.length, 3);
    for (const [n, id] of emails.entries()) {
      await services.emails.destroy(admin, admin, id);
      // The upload is still there after the last email went: it pays again until it is collected.
      await checked(Math.max(emails.length - n - 1, 1) * a.length, `after destroying ${n + 1}`);
    }
    assert.deepEqual(await services.blobs.collect(Date.now() + UPLOAD_TTL_MS + 1), { uploads: 1, blobs: 1 });
    await checked(0, "all gone");

    // A wrong figure is found and set right by a repair.
    services.store.unsafeExec(`INSERT INTO account_usage (account_id, bytes) VALUES (${admin}, 5)
      ON CONFLICT (account_id) DO UPDATE SET bytes = 5`);
    const report = await services.store.integrity.check();
    assert.equal(report.ok, false);
    assert.deepEqual(report.usage.map((u) => [u.accountId, u.recorded, u.counted]), [[admin, 5, 0]]);
    assert.match(report.usage[0].detail, /recorded as using 5 bytes; its mail and uploads come to 0/);
    assert.equal((await services.store.integrity.check({ repair: true })).repaired, 1);
    await checked(0, "repaired");
  } finally {
    await services.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("migration 046 (email copies) keeps the used bytes of a database made before it, then lets APPEND store a copy", async () => {
  const dir = await Deno.makeTempDir();
  const options = { databasePath: `${dir}/postern.db`, encryptionKey: new Uint8Array(64), hashWorkers: 1 };
  let services = await openServices(options);
  try {
    const { admin, a, b } = await filedAndUploaded(services, "before", "uploaded");
    assert.equal(await services.blobs.usedBytes(admin), a.length + b.length);
    // Back to schema 045: the unique index and the email triggers of migration 021, and without what the
    // later migrations added (047: imap_settings.statement_touch and the keyword triggers reading it; 048:
    // login_throttle and servers.internal_url; 049 added only the prefix to the full-text index, which
    // runs again as a rebuild; 050 only replaces the membership trigger, which it finds there; 051: the
    // full-text index's watermark, search_index).
    const oldTriggers = accountUsage.slice(accountUsage.indexOf("CREATE TRIGGER emails_linked"));
    const keywordTriggers = imap.match(/CREATE TRIGGER imap_keyword_o(n|ff) [\s\S]*?END;/g)!.join("\n");
    const copies = MIGRATIONS.findIndex((m) => m.includes("DROP INDEX emails_account_blob"));
    services.store.unsafeExec(`
      DROP INDEX emails_account_blob; CREATE UNIQUE INDEX emails_account_blob ON emails(account_id, blob_id);
      DROP TRIGGER emails_linked; DROP TRIGGER emails_unlinked; ${oldTriggers}
      DROP TRIGGER imap_keyword_on; DROP TRIGGER imap_keyword_off;
      ALTER TABLE imap_settings DROP COLUMN statement_touch; ${keywordTriggers}
      DROP TABLE login_throttle; ALTER TABLE servers DROP COLUMN internal_url; DROP TABLE search_index;
      PRAGMA user_version = ${copies};`);
    await services.close();
    services = await openServices(options);
    assert.equal(await services.blobs.usedBytes(admin), a.length + b.length, "the same figure after it");
    assert.deepEqual((await services.store.integrity.check()).usage, []);
    const entry = (await services.imapMailboxes.resolve(admin, "INBOX"))!;
    const copy = await services.imapMailboxes.append(admin, entry, { message: a });
    assert.equal(copy.uid, 2);
    assert.equal(await services.blobs.usedBytes(admin), 2 * a.length + b.length);
    assert.equal((await services.store.integrity.check()).ok, true);
  } finally {
    await services.close();
    await Deno.remove(dir, { recursive: true });
  }
});
