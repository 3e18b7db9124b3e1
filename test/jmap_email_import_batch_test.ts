/**
 * Email/import of many messages in one call (as a migration tool sends them): stored in one
 * transaction, with the IMAP size counted before the insert and the changes logged in runs
 * (src/mail/email_import.ts), every email must come out as it does when the same messages are
 * imported one call each.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { imported, message, uploadBlob } from "./email_helpers.ts";
import { mailboxesByName, mailCall, type Obj, withAliceAndBob } from "./mail_helpers.ts";
import { IMAP_SIZE_OF_BLOB } from "../src/store/imap_size.ts";

const encoder = new TextEncoder();

/** Messages of every shape the facts read: a thread started and answered within the batch, bare LFs. */
const MESSAGES = [
  message(`From: "Bob Example" <bob@example.org>
To: alice@example.org
Subject: =?utf-8?Q?Caf=C3=A9?= plans
Date: Thu, 30 Oct 2014 14:12:00 +0800
Message-ID: <plans@example.org>
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=utf-8

Shall we meet at the café?
--b
Content-Type: text/plain; name="menu.txt"
Content-Disposition: attachment; filename="menu.txt"
Content-Transfer-Encoding: base64

Q29mZmVlIDIK
--b--
`),
  message(`From: carol@example.net
Subject: Re: Café plans
In-Reply-To: <plans@example.org>
Message-ID: <reply@example.net>

Yes, at noon.
`),
  // Bare LFs: IMAP serves each as CRLF, so the IMAP size is not the size.
  encoder.encode("From: dan@example.net\nSubject: bare line ends\n\nline one\nline two\r\nline three\n"),
  message("Subject: nothing in common\n\nunrelated\n"),
] as const;

/** What a client reads of an email, without the ids that differ between accounts. */
const PROPERTIES = [
  "subject",
  "from",
  "to",
  "sentAt",
  "size",
  "preview",
  "hasAttachment",
  "messageId",
  "inReplyTo",
  "keywords",
  "bodyValues",
  "textBody",
];

function comparable(email: Obj): Obj {
  const { id: _id, threadId: _threadId, mailboxIds: _m, blobId: _b, ...rest } = email;
  return { ...rest, textBody: (rest.textBody as Obj[]).map(({ blobId: _, ...part }) => part) };
}

Deno.test("one Email/import of several messages stores each as its own Email/import would", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const emailState = (await mailCall(t, "Email/get", { ids: [] }, alice)).state as string;
    const emails: Record<string, Obj> = {};
    for (const [i, bytes] of MESSAGES.entries()) {
      emails[`m${i}`] = { blobId: await uploadBlob(t, alice, bytes), mailboxIds: { [inbox]: true } };
    }
    const result = await mailCall(t, "Email/import", { emails }, alice);
    const created = result.created as Record<string, Obj>;
    assert.equal(result.notCreated ?? null, null, JSON.stringify(result.notCreated));
    const ids = MESSAGES.map((_, i) => created[`m${i}`].id as string);
    // The reply joined the thread its parent started in the same call.
    assert.equal(created.m1.threadId, created.m0.threadId);
    assert.notEqual(created.m3.threadId, created.m0.threadId);

    const singles = [];
    for (const bytes of MESSAGES) singles.push((await imported(t, bob, bytes)).id as string);
    const get = async (who: typeof alice, list: string[]) =>
      (await mailCall(t, "Email/get", { ids: list, properties: PROPERTIES, fetchTextBodyValues: true }, who))
        .list as Obj[];
    assert.deepEqual((await get(alice, ids)).map(comparable), (await get(bob, singles)).map(comparable));

    const changes = await mailCall(t, "Email/changes", { sinceState: emailState }, alice);
    assert.deepEqual([...changes.created as string[]].sort(), [...ids].sort());

    // The IMAP size given with the insert is the one the store measures from the message itself.
    const db = new DatabaseSync(`${t.dataDir}/postern.db`, { readOnly: true });
    try {
      const rows = db.prepare(
        `SELECT e.imap_size AS given, ${IMAP_SIZE_OF_BLOB} AS measured FROM emails e JOIN blobs b ON b.id = e.blob_id`,
      ).all() as { given: number | null; measured: number | null }[];
      assert.equal(rows.length, MESSAGES.length * 2);
      assert.ok(rows.some((r) => r.measured !== null), "a message with bare LFs was imported");
      for (const row of rows) assert.equal(row.given, row.measured);
    } finally {
      db.close();
    }
  });
});
