/**
 * Helpers of the email tests: a message uploaded and imported in one step, Email/get as a user, and
 * the messages the tests write (CRLF line ends, as on the wire).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { TestApp } from "./helpers.ts";
import { mailboxesByName, mailCall, type Obj, type Target, type Who } from "./mail_helpers.ts";

/** A message with CRLF line ends from lines written with LF. */
export function message(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text.replace(/\r?\n/g, "\r\n"));
}

let distinct = 0;
/** A distinct message (a new Message-ID, subject and body counter each time) to alice@example.org. */
export function distinctMessage(
  subject = "Hello",
  body = "Body",
  from = "carol@example.net",
): Uint8Array<ArrayBuffer> {
  distinct++;
  return message(
    `From: ${from}\nTo: alice@example.org\nSubject: ${subject} ${distinct}\n` +
      `Message-ID: <m${distinct}.${crypto.randomUUID()}@example.net>\n\n${body} ${distinct}\n`,
  );
}

/** Uploads `bytes` into `accountId` as `who`; returns the blob id. */
export async function uploadBlob(
  target: Target,
  who: Who,
  bytes: Uint8Array<ArrayBuffer>,
  accountId = who.accountId,
): Promise<string> {
  const response = await target.fetch(`/jmap/upload/${accountId}/`, {
    method: "POST",
    headers: { authorization: who.auth, "content-type": "message/rfc822" },
    body: bytes,
  });
  const body = await response.json();
  assert.equal(response.status, 201, JSON.stringify(body));
  return body.blobId;
}

/** Email/import of one message; returns the call's response (created or notCreated under "m"). */
export async function importMessage(
  target: Target,
  who: Who,
  bytes: Uint8Array<ArrayBuffer>,
  options: { accountId?: string; mailboxIds?: string[]; keywords?: string[]; receivedAt?: string } = {},
): Promise<Obj> {
  const accountId = options.accountId ?? who.accountId;
  const blobId = await uploadBlob(target, who, bytes, accountId);
  const mailboxIds = options.mailboxIds ??
    [(await mailboxesByName(target, who, accountId)).Inbox.id as string];
  return await mailCall(target, "Email/import", {
    accountId,
    emails: {
      m: {
        blobId,
        mailboxIds: Object.fromEntries(mailboxIds.map((id) => [id, true])),
        keywords: Object.fromEntries((options.keywords ?? []).map((k) => [k, true])),
        ...(options.receivedAt ? { receivedAt: options.receivedAt } : {}),
      },
    },
  }, who);
}

/** Imports and asserts it was created; returns the created Email (id, blobId, threadId, size). */
export async function imported(
  target: Target,
  who: Who,
  bytes: Uint8Array<ArrayBuffer>,
  options: Parameters<typeof importMessage>[3] = {},
): Promise<Obj> {
  const result = await importMessage(target, who, bytes, options);
  const created = (result.created as Record<string, Obj> | null)?.m;
  assert.ok(created, JSON.stringify(result));
  return created;
}

/** Email/get of one email as `who`; returns it (asserting it was found). */
export async function getEmail(target: Target, who: Who, id: string, args: Obj = {}): Promise<Obj> {
  const result = await mailCall(target, "Email/get", { ids: [id], ...args }, who);
  const [email] = result.list as Obj[];
  assert.ok(email, JSON.stringify(result));
  return email;
}

/** Blobs stored in the app's database (content is stored once per hash: a count shows deduplication). */
export function blobRows(t: TestApp): number {
  const db = new DatabaseSync(`${t.dataDir}/postern.db`, { readOnly: true });
  try {
    return Number((db.prepare("SELECT count(*) AS n FROM blobs").get() as { n: number }).n);
  } finally {
    db.close();
  }
}
