/**
 * Email/set create (RFC 8621 §4.6): a message built from JMAP properties reads back as given, its
 * blob parses again into the same properties (imported elsewhere), attachments come from uploads,
 * and what cannot be written is refused naming the property.
 */
import assert from "node:assert/strict";
import { getEmail, uploadBlob } from "./email_helpers.ts";
import { mailboxesByName, mailCall, type Obj, withAliceAndBob } from "./mail_helpers.ts";

const PROPERTIES = [
  "from",
  "to",
  "cc",
  "bcc",
  "replyTo",
  "subject",
  "sentAt",
  "messageId",
  "inReplyTo",
  "references",
  "keywords",
  "hasAttachment",
  "preview",
  "textBody",
  "htmlBody",
  "attachments",
  "bodyValues",
  "header:X-Mood:asText",
];

Deno.test("an email created from properties reads back as given, and its blob parses again to the same", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const drafts = (await mailboxesByName(t, alice)).Drafts.id as string;
    const pdf = new TextEncoder().encode("%PDF-1.4 pretend");
    const attachment = await uploadBlob(t, alice, pdf);
    const created = await mailCall(t, "Email/set", {
      create: {
        d: {
          mailboxIds: { [drafts]: true },
          keywords: { $draft: true, $seen: true },
          from: [{ name: "Alice Ängström", email: "alice@example.org" }],
          to: [{ name: null, email: "bob@example.org" }, { name: "Carol, C.", email: "carol@example.org" }],
          bcc: [{ name: null, email: "secret@example.org" }],
          subject: "Café ☕ plans",
          sentAt: "2026-12-06T10:30:00+01:00",
          inReplyTo: ["earlier@example.org"],
          references: ["first@example.org", "earlier@example.org"],
          "header:X-Mood": " cheerful",
          bodyValues: {
            t: { value: "Shall we meet at the café?\nAt noon." },
            h: { value: "<p>Shall we meet at the <b>café</b>?</p>" },
          },
          textBody: [{ partId: "t", type: "text/plain" }],
          htmlBody: [{ partId: "h", type: "text/html" }],
          attachments: [{ blobId: attachment, type: "application/pdf", name: "Menü.pdf" }],
        },
      },
    }, alice);
    const made = (created.created as Record<string, Obj> | null)?.d;
    assert.ok(made, JSON.stringify(created));
    assert.deepEqual(Object.keys(made).sort(), ["blobId", "id", "size", "threadId"]);
    const email = await getEmail(t, alice, made.id as string, {
      properties: PROPERTIES,
      fetchTextBodyValues: true,
      fetchHTMLBodyValues: true,
    });
    assert.deepEqual(email.from, [{ name: "Alice Ängström", email: "alice@example.org" }]);
    assert.deepEqual(email.to, [{ name: null, email: "bob@example.org" }, {
      name: "Carol, C.",
      email: "carol@example.org",
    }]);
    assert.deepEqual(email.bcc, [{ name: null, email: "secret@example.org" }], "a draft keeps its Bcc");
    assert.equal(email.subject, "Café ☕ plans");
    assert.equal(email.sentAt, "2026-12-06T10:30:00+01:00");
    assert.match((email.messageId as string[])[0], /@example\.org$/);
    assert.deepEqual(email.inReplyTo, ["earlier@example.org"]);
    assert.deepEqual(email.references, ["first@example.org", "earlier@example.org"]);
    assert.deepEqual(email.keywords, { $draft: true, $seen: true });
    assert.equal(email["header:X-Mood:asText"], "cheerful");
    assert.equal(email.hasAttachment, true);
    assert.equal(email.preview, "Shall we meet at the café? At noon.");
    const values = email.bodyValues as Record<string, Obj>;
    const [text] = email.textBody as Obj[];
    const [html] = email.htmlBody as Obj[];
    assert.equal(values[text.partId as string].value, "Shall we meet at the café?\nAt noon.");
    assert.equal(values[html.partId as string].value, "<p>Shall we meet at the <b>café</b>?</p>");
    const [file] = email.attachments as Obj[];
    assert.equal(file.name, "Menü.pdf");
    assert.equal(file.type, "application/pdf");
    const content = await t.fetch(`/jmap/download/${alice.accountId}/${file.blobId}/x.pdf`, {
      headers: { authorization: alice.auth },
    });
    assert.deepEqual(new Uint8Array(await content.arrayBuffer()), pdf);

    // The message itself, downloaded and imported into Bob's account, parses to the same properties.
    const raw = await t.fetch(`/jmap/download/${alice.accountId}/${made.blobId}/m.eml`, {
      headers: { authorization: alice.auth },
    });
    const bytes = new Uint8Array(await raw.arrayBuffer());
    assert.equal(bytes.length, made.size);
    const blob = await uploadBlob(t, bob, bytes);
    const inbox = (await mailboxesByName(t, bob)).Inbox.id as string;
    const imported = await mailCall(t, "Email/import", {
      emails: { m: { blobId: blob, mailboxIds: { [inbox]: true }, keywords: { $draft: true, $seen: true } } },
    }, bob);
    const again = await getEmail(t, bob, (imported.created as Record<string, Obj>).m.id as string, {
      properties: PROPERTIES,
      fetchTextBodyValues: true,
      fetchHTMLBodyValues: true,
    });
    const comparable = (e: Obj) => ({
      ...e,
      id: undefined,
      textBody: (e.textBody as Obj[]).map((p) => ({ ...p, blobId: undefined })),
      htmlBody: (e.htmlBody as Obj[]).map((p) => ({ ...p, blobId: undefined })),
      attachments: (e.attachments as Obj[]).map((p) => ({ ...p, blobId: undefined })),
    });
    assert.deepEqual(comparable(again), comparable(email));
  });
});

Deno.test("creating: server-set properties, wrong types and unknown blobs are refused naming what", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const drafts = (await mailboxesByName(t, alice)).Drafts.id as string;
    const bobsBlob = await uploadBlob(t, bob, new TextEncoder().encode("bob's"));
    const base = {
      mailboxIds: { [drafts]: true },
      bodyValues: { t: { value: "hi" } },
      textBody: [{ partId: "t" }],
    };
    const result = await mailCall(t, "Email/set", {
      create: {
        serverSet: { ...base, size: 10 },
        noMailbox: { ...base, mailboxIds: {} },
        badFrom: { ...base, from: "alice" },
        badSentAt: { ...base, sentAt: "yesterday" },
        twoBodies: { ...base, textBody: [{ partId: "t" }, { partId: "t" }] },
        missingValue: { ...base, textBody: [{ partId: "nope" }] },
        strayValue: { ...base, bodyValues: { t: { value: "hi" }, x: { value: "?" } } },
        otherBlob: { ...base, attachments: [{ blobId: bobsBlob, type: "text/plain" }] },
        structure: { ...base, bodyStructure: { type: "text/plain", partId: "t" } },
        unknown: { ...base, color: "blue" },
      },
    }, alice);
    assert.equal(result.created, null, JSON.stringify(result.created));
    const refused = result.notCreated as Record<string, Obj>;
    const summary = Object.fromEntries(
      Object.entries(refused).map(([k, v]) => [k, [v.type, v.properties ?? v.notFound]]),
    );
    assert.deepEqual(summary, {
      serverSet: ["invalidProperties", ["size"]],
      noMailbox: ["invalidProperties", ["mailboxIds"]],
      badFrom: ["invalidProperties", ["from"]],
      badSentAt: ["invalidProperties", ["sentAt"]],
      twoBodies: ["invalidProperties", ["textBody"]],
      missingValue: ["invalidProperties", ["textBody"]],
      strayValue: ["invalidProperties", ["bodyValues"]],
      otherBlob: ["blobNotFound", [bobsBlob]],
      structure: ["invalidProperties", ["bodyStructure"]],
      unknown: ["invalidProperties", ["color"]],
    });
    assert.equal((await mailboxesByName(t, alice)).Drafts.totalEmails, 0);
  });
});
