/**
 * Email/parse (RFC 8621 §4.9) and attached messages: a forwarded message's part is parsed as an Email
 * without storing it, its own parts download through nested blob ids, it imports as an email of its
 * own; what is not a message is notParsable, what the caller cannot read notFound.
 */
import assert from "node:assert/strict";
import { getEmail, imported, message, uploadBlob } from "./email_helpers.ts";
import { mailboxesByName, mailCall, mailError, type Obj, withAliceAndBob } from "./mail_helpers.ts";

const FORWARD = message(`From: ada@example.org
To: bob@example.org
Subject: Fwd: the earlier message
Content-Type: multipart/mixed; boundary="f"

--f
Content-Type: text/plain

See below.
--f
Content-Type: message/rfc822

From: Charles <charles@example.org>
To: ada@example.org
Subject: The earlier message
Date: Mon, 30 Nov 2026 18:00:00 +0000
Message-ID: <earlier@example.org>

Could you look at the engine?
--f--
`);

Deno.test("an attached message parses, its parts download, and it imports as an email of its own", async () => {
  await withAliceAndBob(async (t, alice) => {
    const { id } = await imported(t, alice, FORWARD);
    const email = await getEmail(t, alice, id as string, { properties: ["attachments"] });
    const [attached] = email.attachments as Obj[];
    assert.equal(attached.type, "message/rfc822");
    const parsed = await mailCall(t, "Email/parse", {
      blobIds: [attached.blobId],
      fetchTextBodyValues: true,
    }, alice);
    const inner = (parsed.parsed as Record<string, Obj>)[attached.blobId as string];
    assert.equal(inner.subject, "The earlier message");
    assert.deepEqual(inner.from, [{ name: "Charles", email: "charles@example.org" }]);
    assert.deepEqual(inner.messageId, ["earlier@example.org"]);
    assert.equal(inner.sentAt, "2026-11-30T18:00:00Z");
    assert.equal(inner.id, null);
    const [text] = inner.textBody as Obj[];
    assert.equal(text.blobId, `${attached.blobId}_0`);
    assert.equal((inner.bodyValues as Record<string, Obj>)["0"].value, "Could you look at the engine?");
    const part = await t.fetch(`/jmap/download/${alice.accountId}/${text.blobId}/note.txt`, {
      headers: { authorization: alice.auth },
    });
    assert.equal(await part.text(), "Could you look at the engine?");

    // Filed as an email of its own, from the part's blob id.
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const result = await mailCall(t, "Email/import", {
      emails: { m: { blobId: attached.blobId, mailboxIds: { [inbox]: true } } },
    }, alice);
    const created = (result.created as Record<string, Obj> | null)?.m;
    assert.ok(created, JSON.stringify(result));
    const filed = await getEmail(t, alice, created.id as string, { properties: ["subject", "messageId"] });
    assert.equal(filed.subject, "The earlier message");
  });
});

Deno.test("Email/parse: an uploaded message parses; a blob that is no message is notParsable; others notFound", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const eml = await uploadBlob(t, alice, message("Subject: uploaded\nFrom: a@example.org\n\nbody\n"));
    const png = await uploadBlob(t, alice, new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 0]));
    const bobs = await uploadBlob(t, bob, message("Subject: bob's\n\nx\n"));
    const result = await mailCall(t, "Email/parse", {
      blobIds: [eml, png, bobs, "Gnope"],
      properties: ["subject", "size", "keywords", "header:From:asAddresses"],
    }, alice);
    assert.deepEqual(result.parsed, {
      [eml]: {
        id: null,
        subject: "uploaded",
        size: 48,
        keywords: null,
        "header:From:asAddresses": [{ name: null, email: "a@example.org" }],
      },
    });
    assert.deepEqual(result.notParsable, [png]);
    assert.deepEqual(result.notFound, [bobs, "Gnope"]);
  });
});

Deno.test("Email/parse: more than 256 properties, or an answer past 32 MB, is requestTooLarge; Bob cannot parse Alice's blob", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const big = message(
      `From: a@example.org\nSubject: big header\nX-Big: ${"word ".repeat(200_000)}\n\nbody\n`,
    );
    const blobId = await uploadBlob(t, alice, big);
    const many = Array.from({ length: 20_000 }, (_, i) => `header:X-H${i}`);
    const tooMany = await mailError(t, "Email/parse", { blobIds: [blobId], properties: many }, alice);
    assert.equal(tooMany.type, "requestTooLarge");
    const spellings = [
      "x-big",
      "X-big",
      "x-Big",
      "X-Big",
      "X-BIG",
      "x-BIG",
      "x-bIG",
      "X-bIG",
      "x-biG",
      "X-biG",
    ];
    const properties = spellings.flatMap((name) => [
      `header:${name}`,
      `header:${name}:asText`,
      `header:${name}:all`,
      `header:${name}:asText:all`,
    ]);
    const huge = await mailError(t, "Email/parse", { blobIds: [blobId], properties }, alice);
    assert.equal(huge.type, "requestTooLarge");
    assert.match(huge.description as string, /32000000 bytes/);
    const answered = await mailCall(t, "Email/parse", { blobIds: [blobId], properties: ["subject"] }, alice);
    assert.deepEqual((answered.parsed as Record<string, Obj>)[blobId], { id: null, subject: "big header" });
    const bobs = await mailCall(
      t,
      "Email/parse",
      { accountId: bob.accountId, blobIds: [blobId], properties },
      bob,
    );
    assert.deepEqual(bobs.notFound, [blobId]);
  });
});

Deno.test("Email/get and Email/parse answer the headers property: every header field, raw, in order (RFC 8621 §4.1.3)", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const eml = message(
      "Received: from a\nSubject: folded\n over two lines\nFrom: a@example.org\nX-Dup: one\nX-Dup: two\n\nbody\n",
    );
    // RFC 8621 §4.1.3: "headers: EmailHeader[] (immutable) This is a list of all header fields
    // [RFC5322], in the same order they appear in the message." (value in Raw form)
    const expected = [
      { name: "Received", value: " from a" },
      { name: "Subject", value: " folded\r\n over two lines" },
      { name: "From", value: " a@example.org" },
      { name: "X-Dup", value: " one" },
      { name: "X-Dup", value: " two" },
    ];
    const blobId = await uploadBlob(t, alice, eml);
    const parsed = await mailCall(t, "Email/parse", { blobIds: [blobId], properties: ["headers"] }, alice);
    assert.deepEqual((parsed.parsed as Record<string, Obj>)[blobId], { id: null, headers: expected });
    const { id } = await imported(t, alice, eml);
    const email = await getEmail(t, alice, id as string, { properties: ["headers"] });
    assert.deepEqual(email.headers, expected);
    // Bob, who cannot read Alice's mail, gets nothing.
    const bobs = await mailCall(
      t,
      "Email/get",
      { accountId: alice.accountId, ids: [id], properties: ["headers"] },
      bob,
    ).catch((error) => ({ error }));
    assert.ok(!("list" in bobs) || (bobs.list as Obj[]).length === 0, JSON.stringify(bobs));
  });
});
