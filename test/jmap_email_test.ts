/**
 * Emails (RFC 8621 §4): Email/import from an uploaded blob, Email/get of every kind of property,
 * threads, mailbox counts and the changes a client syncs from, duplicates, and bad input.
 */
import assert from "node:assert/strict";
import { getEmail, imported, importMessage, message, uploadBlob } from "./email_helpers.ts";
import {
  adminSetAccounts,
  mailboxesByName,
  mailboxState,
  mailCall,
  mailError,
  type Obj,
  withAliceAndBob,
} from "./mail_helpers.ts";

const HELLO = message(`From: "Bob Example" <bob@example.org>
To: alice@example.org, Team: carol@example.org, =?utf-8?Q?J=C3=BCrgen?= <j@example.org>;
Subject: =?utf-8?Q?Caf=C3=A9?= plans
Date: Thu, 30 Oct 2014 14:12:00 +0800
Message-ID: <hello@example.org>
List-Unsubscribe: <mailto:leave@example.org>, <https://example.org/leave>
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: multipart/alternative; boundary="a"

--a
Content-Type: text/plain; charset=utf-8

Shall we meet at the café?
--a
Content-Type: text/html; charset=utf-8

<p>Shall we meet at the <b>café</b>?</p>
--a--
--b
Content-Type: text/plain; name="menu.txt"
Content-Disposition: attachment; filename="menu.txt"
Content-Transfer-Encoding: base64

Q29mZmVlIDIK
--b--
`);

Deno.test("an imported message reads back through Email/get: header, metadata and body properties", async () => {
  await withAliceAndBob(async (t, alice) => {
    const created = await imported(t, alice, HELLO, {
      keywords: ["$seen", "$Flagged"],
      receivedAt: "2026-12-01T10:00:00Z",
    });
    assert.deepEqual(Object.keys(created).sort(), ["blobId", "id", "size", "threadId"]);
    assert.equal(created.size, HELLO.length);
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const email = await getEmail(t, alice, created.id as string, { fetchTextBodyValues: true });
    assert.equal(email.id, created.id);
    assert.equal(email.blobId, created.blobId);
    assert.equal(email.threadId, created.threadId);
    assert.deepEqual(email.mailboxIds, { [inbox]: true });
    assert.deepEqual(email.keywords, { "$flagged": true, "$seen": true });
    assert.equal(email.receivedAt, "2026-12-01T10:00:00Z");
    assert.equal(email.sentAt, "2014-10-30T14:12:00+08:00");
    assert.equal(email.subject, "Café plans");
    assert.deepEqual(email.messageId, ["hello@example.org"]);
    assert.equal(email.inReplyTo, null);
    assert.deepEqual(email.from, [{ name: "Bob Example", email: "bob@example.org" }]);
    assert.deepEqual(email.to, [
      { name: null, email: "alice@example.org" },
      { name: null, email: "carol@example.org" },
      { name: "Jürgen", email: "j@example.org" },
    ]);
    assert.equal(email.cc, null);
    assert.equal(email.preview, "Shall we meet at the café?");
    assert.equal(email.hasAttachment, true);
    const textBody = email.textBody as Obj[];
    assert.equal(textBody.length, 1);
    assert.deepEqual(
      { ...textBody[0], blobId: undefined },
      {
        partId: "2",
        blobId: undefined,
        size: 26 + 1,
        name: null,
        type: "text/plain",
        charset: "utf-8",
        disposition: null,
        cid: null,
        language: null,
        location: null,
      },
    );
    assert.deepEqual((email.htmlBody as Obj[]).map((p) => p.partId), ["3"]);
    assert.deepEqual((email.attachments as Obj[]).map((p) => [p.partId, p.name, p.size]), [[
      "4",
      "menu.txt",
      9,
    ]]);
    assert.deepEqual(email.bodyValues, {
      "2": { value: "Shall we meet at the café?", isEncodingProblem: false, isTruncated: false },
    });

    // The attachment's blob downloads decoded.
    const attachment = (email.attachments as Obj[])[0];
    const response = await t.fetch(`/jmap/download/${alice.accountId}/${attachment.blobId}/menu.txt`, {
      headers: { authorization: alice.auth },
    });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "Coffee 2\n");
    // And the message's own blob is the message, byte for byte.
    const raw = await t.fetch(`/jmap/download/${alice.accountId}/${email.blobId}/m.eml`, {
      headers: { authorization: alice.auth },
    });
    assert.deepEqual(new Uint8Array(await raw.arrayBuffer()), HELLO);
  });
});

Deno.test("header properties in every form, bodyStructure, and only what was asked", async () => {
  await withAliceAndBob(async (t, alice) => {
    const { id } = await imported(t, alice, HELLO);
    const email = await getEmail(t, alice, id as string, {
      properties: [
        "header:Subject",
        "header:Subject:asText",
        "header:to:asGroupedAddresses",
        "header:List-Unsubscribe:asURLs",
        "header:Date:asDate",
        "header:X-Missing",
        "header:X-Missing:all",
        "bodyStructure",
      ],
      bodyProperties: ["partId", "type", "header:Content-Type"],
    });
    assert.deepEqual(Object.keys(email).sort(), [
      "bodyStructure",
      "header:Date:asDate",
      "header:List-Unsubscribe:asURLs",
      "header:Subject",
      "header:Subject:asText",
      "header:X-Missing",
      "header:X-Missing:all",
      "header:to:asGroupedAddresses",
      "id",
    ]);
    assert.equal(email["header:Subject"], " =?utf-8?Q?Caf=C3=A9?= plans");
    assert.equal(email["header:Subject:asText"], "Café plans");
    assert.deepEqual(email["header:to:asGroupedAddresses"], [
      { name: null, addresses: [{ name: null, email: "alice@example.org" }] },
      {
        name: "Team",
        addresses: [{ name: null, email: "carol@example.org" }, { name: "Jürgen", email: "j@example.org" }],
      },
    ]);
    assert.deepEqual(email["header:List-Unsubscribe:asURLs"], [
      "mailto:leave@example.org",
      "https://example.org/leave",
    ]);
    assert.equal(email["header:Date:asDate"], "2014-10-30T14:12:00+08:00");
    assert.equal(email["header:X-Missing"], null);
    assert.deepEqual(email["header:X-Missing:all"], []);
    assert.deepEqual(email.bodyStructure, {
      partId: null,
      type: "multipart/mixed",
      "header:Content-Type": ' multipart/mixed; boundary="b"',
      subParts: [
        {
          partId: null,
          type: "multipart/alternative",
          "header:Content-Type": ' multipart/alternative; boundary="a"',
          subParts: [
            {
              partId: "2",
              type: "text/plain",
              "header:Content-Type": " text/plain; charset=utf-8",
              subParts: null,
            },
            {
              partId: "3",
              type: "text/html",
              "header:Content-Type": " text/html; charset=utf-8",
              subParts: null,
            },
          ],
        },
        {
          partId: "4",
          type: "text/plain",
          "header:Content-Type": ' text/plain; name="menu.txt"',
          subParts: null,
        },
      ],
    });
  });
});

Deno.test("a reply joins its thread; a message with the same subject but no reference does not", async () => {
  await withAliceAndBob(async (t, alice) => {
    const first = await imported(t, alice, HELLO);
    const reply = await imported(
      t,
      alice,
      message(`From: alice@example.org
Subject: Re: Café plans
In-Reply-To: <hello@example.org>
Message-ID: <reply@example.org>

Yes!
`),
    );
    const later = await imported(
      t,
      alice,
      message(`From: alice@example.org
Subject: RE: [team] Re: Café plans
References: <hello@example.org> <reply@example.org>

Again
`),
    );
    const stranger = await imported(
      t,
      alice,
      message(`From: eve@example.org
Subject: Café plans

Unrelated
`),
    );
    assert.equal(reply.threadId, first.threadId);
    assert.equal(later.threadId, first.threadId);
    assert.notEqual(stranger.threadId, first.threadId);
    const threads = await mailCall(
      t,
      "Thread/get",
      { ids: [first.threadId, stranger.threadId, "nothing"] },
      alice,
    );
    assert.deepEqual(threads.list, [
      { id: first.threadId, emailIds: [first.id, reply.id, later.id] },
      { id: stranger.threadId, emailIds: [stranger.id] },
    ]);
    assert.deepEqual(threads.notFound, ["nothing"]);
  });
});

Deno.test("mailbox counts and the Email, Thread and Mailbox changes follow each import", async () => {
  await withAliceAndBob(async (t, alice) => {
    const boxes = await mailboxesByName(t, alice);
    const inbox = boxes.Inbox.id as string;
    const archive = boxes.Archive.id as string;
    const emailState = (await mailCall(t, "Email/get", { ids: [] }, alice)).state as string;
    const threadState = (await mailCall(t, "Thread/get", { ids: [] }, alice)).state as string;
    const boxState = await mailboxState(t, alice);
    const a = await imported(t, alice, HELLO, { mailboxIds: [inbox, archive], keywords: ["$seen"] });
    const b = await imported(
      t,
      alice,
      message("Subject: Re: Café plans\nIn-Reply-To: <hello@example.org>\n\nunread reply\n"),
    );
    const c = await imported(t, alice, message("Subject: other\n\nunread\n"));
    const after = await mailboxesByName(t, alice);
    const counts = (m: Obj) => [m.totalEmails, m.unreadEmails, m.totalThreads, m.unreadThreads];
    assert.deepEqual(counts(after.Inbox), [3, 2, 2, 2]);
    assert.deepEqual(counts(after.Archive), [1, 0, 1, 0]);
    assert.deepEqual(counts(after.Trash), [0, 0, 0, 0]);

    const emails = await mailCall(t, "Email/changes", { sinceState: emailState }, alice);
    assert.deepEqual((emails.created as string[]).sort(), [a.id, b.id, c.id].sort());
    const threads = await mailCall(t, "Thread/changes", { sinceState: threadState }, alice);
    assert.deepEqual((threads.created as string[]).sort(), [a.threadId, c.threadId].sort());
    const mailboxes = await mailCall(t, "Mailbox/changes", { sinceState: boxState }, alice);
    assert.deepEqual((mailboxes.updated as string[]).sort(), [inbox, archive].sort());
  });
});

Deno.test("importing the same message twice is alreadyExists with the existing id", async () => {
  await withAliceAndBob(async (t, alice) => {
    const first = await imported(t, alice, HELLO);
    const again = await importMessage(t, alice, HELLO);
    const refused = (again.notCreated as Record<string, Obj>).m;
    assert.equal(refused.type, "alreadyExists");
    assert.equal(refused.existingId, first.id);
    assert.equal(again.created, null);
  });
});

Deno.test("a sharer reads the emails of the mailboxes it may read, sees only those mailboxes, and imports only with mayAddItems", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const boxes = await mailboxesByName(t, alice);
    const inbox = boxes.Inbox.id as string;
    const archive = boxes.Archive.id as string;
    const both = await imported(t, alice, HELLO, { mailboxIds: [inbox, archive] });
    const hidden = await imported(t, alice, message("Subject: private\n\nsecret\n"), {
      mailboxIds: [archive],
    });
    await mailCall(t, "Mailbox/set", {
      update: { [inbox]: { shareWith: { [bob.accountId]: { mayReadItems: true } } } },
    }, alice);
    const seen = await mailCall(t, "Email/get", {
      accountId: alice.accountId,
      ids: [both.id, hidden.id],
      properties: ["mailboxIds", "subject"],
    }, bob);
    assert.deepEqual(seen.list, [{ id: both.id, mailboxIds: { [inbox]: true }, subject: "Café plans" }]);
    assert.deepEqual(seen.notFound, [hidden.id]);
    // Without mayAddItems Bob cannot import into Alice's Inbox (nor upload there: read-only account).
    const blobId = await uploadBlob(t, bob, message("Subject: from bob\n\nhi\n"));
    const refused = await mailCall(t, "Email/import", {
      accountId: alice.accountId,
      emails: { m: { blobId, mailboxIds: { [inbox]: true } } },
    }, bob);
    // RFC 8621 §4.8: a blobId not found is "invalidProperties" naming it.
    const error = (refused.notCreated as Record<string, Obj>).m;
    assert.equal(error.type, "invalidProperties", "Bob's blob is in his own account");
    assert.deepEqual(error.properties, ["blobId"]);
  });
});

Deno.test("an import past the storage quota is overQuota and changes nothing", async () => {
  await withAliceAndBob(async (t, alice) => {
    const big = message("Subject: big\n\n" + "z".repeat(2000));
    const blobId = await uploadBlob(t, alice, big);
    // The limit is lowered below what the account holds after the upload: the import must not go in.
    await adminSetAccounts(t, { update: { [alice.accountId]: { quotas: { maxDiskQuota: 1000 } } } });
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const emailState = (await mailCall(t, "Email/get", { ids: [] }, alice)).state;
    const boxState = await mailboxState(t, alice);
    const result = await mailCall(t, "Email/import", {
      emails: { m: { blobId, mailboxIds: { [inbox]: true } } },
    }, alice);
    assert.equal(result.created, null);
    const refused = (result.notCreated as Record<string, Obj>).m;
    assert.equal(refused.type, "overQuota");
    assert.match(String(refused.description), /maxDiskQuota 1000 bytes/);
    assert.equal(result.newState, emailState);
    assert.equal(await mailboxState(t, alice), boxState);
    assert.equal((await mailboxesByName(t, alice)).Inbox.totalEmails, 0);
    // With room again, the same upload imports.
    await adminSetAccounts(t, { update: { [alice.accountId]: { quotas: { maxDiskQuota: 100_000 } } } });
    await imported(t, alice, big);
  });
});

Deno.test("bad input to Email/import and Email/get: clear errors, nothing stored", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const blobId = await uploadBlob(t, alice, HELLO);
    const bobsBlob = await uploadBlob(t, bob, message("Subject: bob's\n\nx\n"));
    const result = await mailCall(t, "Email/import", {
      emails: {
        otherAccountsBlob: { blobId: bobsBlob, mailboxIds: { [inbox]: true } },
        garbageBlob: { blobId: "Gnope", mailboxIds: { [inbox]: true } },
        noMailbox: { blobId, mailboxIds: {} },
        unknownMailbox: { blobId, mailboxIds: { zzzzzz: true } },
        falseMailbox: { blobId, mailboxIds: { [inbox]: false } },
        badKeyword: { blobId, mailboxIds: { [inbox]: true }, keywords: { "has space": true } },
        badDate: { blobId, mailboxIds: { [inbox]: true }, receivedAt: "yesterday" },
        extra: { blobId, mailboxIds: { [inbox]: true }, subject: "no" },
        notAnObject: 7,
      },
    }, alice);
    assert.equal(result.created, null);
    const refused = result.notCreated as Record<string, Obj>;
    const types = Object.fromEntries(
      Object.entries(refused).map(([k, v]) => [k, [v.type, v.properties ?? null]]),
    );
    // RFC 8621 §4.8: "If the "blobId", "mailboxIds", or "keywords" properties are invalid (e.g., missing,
    // wrong type, id not found), the server MUST reject the import with an "invalidProperties" SetError."
    assert.deepEqual(types, {
      otherAccountsBlob: ["invalidProperties", ["blobId"]],
      garbageBlob: ["invalidProperties", ["blobId"]],
      noMailbox: ["invalidProperties", ["mailboxIds"]],
      unknownMailbox: ["invalidProperties", ["mailboxIds"]],
      falseMailbox: ["invalidProperties", ["mailboxIds"]],
      badKeyword: ["invalidProperties", ["keywords"]],
      badDate: ["invalidProperties", ["receivedAt"]],
      extra: ["invalidProperties", ["subject"]],
      notAnObject: ["invalidProperties", null],
    });
    for (const refusal of Object.values(refused)) assert.equal(typeof refusal.description, "string");
    assert.equal((await mailboxesByName(t, alice)).Inbox.totalEmails, 0);

    const wrongState = await mailError(t, "Email/import", { ifInState: "nope", emails: {} }, alice);
    assert.equal(wrongState.type, "stateMismatch");
    const notMine = await mailError(t, "Email/get", { accountId: bob.accountId, ids: [] }, alice);
    assert.equal(notMine.type, "accountNotFound");
    const unknownProperty = await mailError(t, "Email/get", { ids: [], properties: ["subjekt"] }, alice);
    assert.equal(unknownProperty.type, "invalidArguments");
    const wrongForm = await mailError(t, "Email/get", { ids: [], properties: ["header:From:asDate"] }, alice);
    assert.equal(wrongForm.type, "invalidArguments");
    assert.match(String(wrongForm.description), /From field cannot be read as Date/);
    const badBody = await mailError(t, "Email/get", { ids: [], bodyProperties: ["nope"] }, alice);
    assert.equal(badBody.type, "invalidArguments");
    const missing = await mailCall(t, "Email/get", { ids: ["zzzzzz", "not an id"] }, alice);
    assert.deepEqual(missing.notFound, ["zzzzzz", "not an id"]);
  });
});

Deno.test("Email/get refuses more than 256 distinct properties with requestTooLarge; duplicates count once; another user's ids stay notFound", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const email = await imported(t, alice, HELLO);
    // The request: 20,000 header properties (the 200 ids are capped separately by maxObjectsInGet).
    const many = Array.from({ length: 20_000 }, (_, i) => `header:X-H${i}`);
    const refused = await mailError(t, "Email/get", { ids: [email.id], properties: many }, alice);
    assert.equal(refused.type, "requestTooLarge");
    assert.match(refused.description as string, /at most 256/);
    const body = await mailError(t, "Email/get", { ids: [email.id], bodyProperties: many }, alice);
    assert.equal(body.type, "requestTooLarge");
    // 256 distinct properties are answered; the same property 1,000 times is one property.
    const allowed = ["id", ...Array.from({ length: 255 }, (_, i) => `header:X-H${i}`)];
    const got = await mailCall(t, "Email/get", { ids: [email.id], properties: allowed }, alice);
    assert.equal(Object.keys((got.list as Obj[])[0]).length, 256);
    const repeated = await mailCall(t, "Email/get", {
      ids: [email.id],
      properties: Array.from({ length: 1_000 }, () => "subject"),
    }, alice);
    assert.deepEqual((repeated.list as Obj[])[0], { id: email.id, subject: "Café plans" });
    // Bob asks the same of Alice's email in his own account: not found, nothing leaks.
    const other = await mailCall(t, "Email/get", { ids: [email.id], properties: ["subject"] }, bob);
    assert.deepEqual([other.list, other.notFound], [[], [email.id]]);
  });
});

Deno.test("an Email/get answer past 32 MB is requestTooLarge instead of filling memory; under it, answered", async () => {
  await withAliceAndBob(async (t, alice) => {
    const big = message(
      `From: a@example.org\nSubject: big header\nX-Big: ${"word ".repeat(200_000)}\n\nbody\n`,
    );
    const email = await imported(t, alice, big);
    // The same 1 MB header in 40 spellings (the name is case-insensitive): 40 MB of answer.
    const spellings = ["x", "X"].flatMap((x) =>
      ["b", "B"].flatMap((b) => ["i", "I"].flatMap((i) => ["g", "G"].map((g) => `${x}-${b}${i}${g}`)))
    );
    const properties = spellings.flatMap((
      name,
    ) => [`header:${name}`, `header:${name}:asText`, `header:${name}:all`])
      .slice(0, 40);
    const refused = await mailError(t, "Email/get", { ids: [email.id], properties }, alice);
    assert.equal(refused.type, "requestTooLarge");
    assert.match(refused.description as string, /32000000 bytes/);
    const answered = await mailCall(
      t,
      "Email/get",
      { ids: [email.id], properties: properties.slice(0, 10) },
      alice,
    );
    assert.equal(Object.keys((answered.list as Obj[])[0]).length, 11);
  });
});
