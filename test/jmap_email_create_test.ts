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
      // The partId names no value, and the value "t" is then no part's.
      missingValue: ["invalidProperties", ["textBody", "bodyValues"]],
      strayValue: ["invalidProperties", ["bodyValues"]],
      otherBlob: ["blobNotFound", [bobsBlob]],
      structure: ["invalidProperties", ["bodyStructure"]],
      unknown: ["invalidProperties", ["color"]],
    });
    assert.equal((await mailboxesByName(t, alice)).Drafts.totalEmails, 0);
  });
});

Deno.test("an email created from a bodyStructure has exactly that tree, text from bodyValues and leaves from blobs", async () => {
  await withAliceAndBob(async (t, alice) => {
    const drafts = (await mailboxesByName(t, alice)).Drafts.id as string;
    const logo = await uploadBlob(t, alice, new Uint8Array([137, 80, 78, 71, 1, 2, 3]));
    const pdf = await uploadBlob(t, alice, new TextEncoder().encode("%PDF-1.7"));
    const created = await mailCall(t, "Email/set", {
      create: {
        s: {
          mailboxIds: { [drafts]: true },
          from: [{ name: null, email: "alice@example.org" }],
          subject: "Structured",
          bodyValues: {
            plain: { value: "Plain text" },
            rich: { value: '<p>Rich <img src="cid:logo@x"></p>' },
          },
          bodyStructure: {
            type: "multipart/mixed",
            subParts: [
              {
                type: "multipart/alternative",
                subParts: [
                  { type: "text/plain", partId: "plain" },
                  {
                    type: "multipart/related",
                    subParts: [
                      { type: "text/html", partId: "rich", language: ["en"] },
                      {
                        type: "image/png",
                        blobId: logo,
                        cid: "logo@x",
                        disposition: "inline",
                        name: "logo.png",
                      },
                    ],
                  },
                ],
              },
              { type: "application/pdf", blobId: pdf, name: "Plan.pdf", disposition: "attachment" },
            ],
          },
        },
      },
    }, alice);
    const made = (created.created as Record<string, Obj> | null)?.s;
    assert.ok(made, JSON.stringify(created.notCreated));
    const email = await getEmail(t, alice, made.id as string, {
      properties: ["bodyStructure", "textBody", "htmlBody", "attachments", "bodyValues"],
      bodyProperties: ["partId", "type", "name", "disposition", "cid", "language"],
      fetchAllBodyValues: true,
    });
    const shape = (part: Obj): unknown =>
      part.subParts ? { type: part.type, subParts: (part.subParts as Obj[]).map(shape) } : {
        type: part.type,
        name: part.name,
        disposition: part.disposition,
        cid: part.cid,
        language: part.language,
      };
    assert.deepEqual(shape(email.bodyStructure as Obj), {
      type: "multipart/mixed",
      subParts: [
        {
          type: "multipart/alternative",
          subParts: [
            { type: "text/plain", name: null, disposition: null, cid: null, language: null },
            {
              type: "multipart/related",
              subParts: [
                { type: "text/html", name: null, disposition: null, cid: null, language: ["en"] },
                { type: "image/png", name: "logo.png", disposition: "inline", cid: "logo@x", language: null },
              ],
            },
          ],
        },
        { type: "application/pdf", name: "Plan.pdf", disposition: "attachment", cid: null, language: null },
      ],
    });
    assert.deepEqual((email.textBody as Obj[]).map((p) => p.type), ["text/plain"]);
    assert.deepEqual((email.htmlBody as Obj[]).map((p) => p.type), ["text/html"]);
    assert.deepEqual((email.attachments as Obj[]).map((p) => p.name), ["logo.png", "Plan.pdf"]);
    const values = Object.values(email.bodyValues as Record<string, Obj>).map((v) => v.value);
    assert.deepEqual(values, ["Plain text", '<p>Rich <img src="cid:logo@x"></p>']);

    const refused = await mailCall(t, "Email/set", {
      create: {
        both: {
          mailboxIds: { [drafts]: true },
          bodyValues: { p: { value: "x" } },
          textBody: [{ partId: "p" }],
          bodyStructure: { type: "text/plain", partId: "p" },
        },
        emptyMultipart: {
          mailboxIds: { [drafts]: true },
          bodyStructure: { type: "multipart/mixed", subParts: [] },
        },
        binaryFromValues: {
          mailboxIds: { [drafts]: true },
          bodyValues: { p: { value: "x" } },
          bodyStructure: { type: "image/png", partId: "p" },
        },
        noContent: { mailboxIds: { [drafts]: true }, bodyStructure: { type: "application/pdf" } },
      },
    }, alice);
    const errors = refused.notCreated as Record<string, Obj>;
    for (const key of ["both", "emptyMultipart", "binaryFromValues", "noContent"]) {
      assert.deepEqual(errors[key].properties, ["bodyStructure"], `${key}: ${JSON.stringify(errors[key])}`);
    }
  });
});

Deno.test("attachments past maxSizeAttachmentsPerEmail are refused as tooLarge", async () => {
  await withAliceAndBob(async (t, alice) => {
    const drafts = (await mailboxesByName(t, alice)).Drafts.id as string;
    const session = await (await t.fetch("/jmap/session", { headers: { authorization: alice.auth } })).json();
    const mail = session.accounts[alice.accountId].accountCapabilities["urn:ietf:params:jmap:mail"];
    const limit = mail.maxSizeAttachmentsPerEmail as number;
    assert.equal(limit, 50_000_000);
    // One blob just over half the limit, attached twice.
    const big = await uploadBlob(t, alice, new Uint8Array(Math.floor(limit / 2) + 1));
    const result = await mailCall(t, "Email/set", {
      create: {
        x: {
          mailboxIds: { [drafts]: true },
          bodyValues: { t: { value: "two big files" } },
          textBody: [{ partId: "t" }],
          attachments: [{ blobId: big, name: "a.bin" }, { blobId: big, name: "b.bin" }],
        },
      },
    }, alice);
    const refused = (result.notCreated as Record<string, Obj>).x;
    assert.equal(refused.type, "tooLarge", JSON.stringify(refused));
    assert.match(String(refused.description), /maxSizeAttachmentsPerEmail/);
  });
});

Deno.test("creating: what RFC 8621 §4.6 says must not be given is refused, every bad property named at once", async () => {
  await withAliceAndBob(async (t, alice) => {
    const drafts = (await mailboxesByName(t, alice)).Drafts.id as string;
    const base = {
      mailboxIds: { [drafts]: true },
      bodyValues: { t: { value: "hi" } },
      textBody: [{ partId: "t" }],
    };
    const result = await mailCall(t, "Email/set", {
      create: {
        // §4.6: "The 'headers' property MUST NOT be given on either the top-level Email or an
        // EmailBodyPart".
        headers: { ...base, headers: [{ name: "X-A", value: " b" }] },
        partHeaders: { ...base, textBody: [{ partId: "t", headers: [{ name: "X-A", value: " b" }] }] },
        // §4.6: "Header fields beginning with 'Content-' MUST NOT be specified on the Email object".
        contentType: { ...base, "header:Content-Type": " text/html" },
        // §4.6: "A 'Content-Transfer-Encoding' header field MUST NOT be given."
        transferEncoding: {
          ...base,
          textBody: [{ partId: "t", "header:Content-Transfer-Encoding": " 8bit" }],
        },
        // §4.6: "The 'charset' property MUST be omitted if a 'partId' is given" (size likewise).
        charset: { ...base, textBody: [{ partId: "t", charset: "iso-8859-1" }] },
        size: { ...base, textBody: [{ partId: "t", size: 2 }] },
        // §4.6: "The 'isEncodingProblem' and 'isTruncated' properties MUST be either false or omitted."
        truncated: { ...base, bodyValues: { t: { value: "hi", isTruncated: true } } },
        // §4.6: "There MUST NOT be two properties that represent the same header field".
        twice: { ...base, subject: "a", "header:Subject:asText": "b" },
        // "Creation attempts that violate any of this SHOULD be rejected with an invalidProperties
        // error": every one of them is named, not only the first.
        many: { ...base, size: 1, from: "x", "header:Content-Type": " x/y", sentAt: "soon", color: 1 },
      },
    }, alice);
    assert.equal(result.created, null, JSON.stringify(result.created));
    const refused = result.notCreated as Record<string, Obj>;
    const summary = Object.fromEntries(
      Object.entries(refused).map(([k, v]) => [k, [v.type, (v.properties as string[]).sort()]]),
    );
    assert.deepEqual(summary, {
      headers: ["invalidProperties", ["headers"]],
      partHeaders: ["invalidProperties", ["textBody"]],
      contentType: ["invalidProperties", ["header:Content-Type"]],
      transferEncoding: ["invalidProperties", ["textBody"]],
      charset: ["invalidProperties", ["textBody"]],
      size: ["invalidProperties", ["textBody"]],
      truncated: ["invalidProperties", ["bodyValues"]],
      twice: ["invalidProperties", ["header:Subject:asText", "subject"]],
      many: ["invalidProperties", ["color", "from", "header:Content-Type", "sentAt", "size"]],
    });
    assert.equal((await mailboxesByName(t, alice)).Drafts.totalEmails, 0);
  });
});

Deno.test("creating: no header value can inject a header field or a body, in any form (RFC 8621 §4.1.3, §4.6)", async () => {
  await withAliceAndBob(async (t, alice) => {
    const drafts = (await mailboxesByName(t, alice)).Drafts.id as string;
    const base = {
      mailboxIds: { [drafts]: true },
      bodyValues: { t: { value: "hi" } },
      textBody: [{ partId: "t" }],
    };
    const attacks: Record<string, Obj> = {
      raw: { "header:X-A": " ok\r\nBcc: victim@example.org" },
      rawLf: { "header:X-A": " ok\nBcc: victim@example.org" },
      rawBody: { "header:X-A": " ok\r\n\r\ninjected body" },
      rawBlankFold: { "header:X-A": " ok\r\n \r\nBcc: victim@example.org" },
      text: { "header:X-A:asText": "ok\r\nBcc: victim@example.org" },
      subject: { subject: "ok\r\nBcc: victim@example.org" },
      addresses: { "header:X-To:asAddresses": [{ name: "a\r\nBcc: v@example.org", email: "a@example.org" }] },
      email: { to: [{ name: null, email: "a@example.org\r\nBcc: v@example.org" }] },
      ids: { "header:X-Ref:asMessageIds": ["a@b\r\nBcc: v@example.org"] },
      urls: { "header:List-Post:asURLs": ["mailto:a@b\r\nBcc: v@example.org"] },
      all: { "header:X-A:all": [" fine", " bad\r\nBcc: v@example.org"] },
      part: { textBody: [{ partId: "t", "header:X-A": " ok\r\nBcc: v@example.org" }] },
      partName: { attachments: [{ blobId: "x", name: "a\r\nBcc: v@example.org" }] },
    };
    const result = await mailCall(t, "Email/set", {
      create: Object.fromEntries(Object.entries(attacks).map(([k, v]) => [k, { ...base, ...v }])),
    }, alice);
    assert.equal(result.created, null, JSON.stringify(result.created));
    const refused = result.notCreated as Record<string, Obj>;
    for (const [key, attack] of Object.entries(attacks)) {
      assert.equal(refused[key]?.type, "invalidProperties", `${key}: ${JSON.stringify(refused[key])}`);
      assert.deepEqual(refused[key].properties, Object.keys(attack), key);
    }
    // A folded Raw value (CRLF then a space) is no injection: it is written, unfolded (RFC 5322 §2.2.3).
    const folded = await mailCall(t, "Email/set", {
      create: { f: { ...base, "header:X-Long": " first\r\n second" } },
    }, alice);
    const made = (folded.created as Record<string, Obj> | null)?.f;
    assert.ok(made, JSON.stringify(folded.notCreated));
    const email = await getEmail(t, alice, made.id as string, { properties: ["header:X-Long", "headers"] });
    assert.equal(email["header:X-Long"], " first second");
    assert.ok(!(email.headers as Obj[]).some((h) => String(h.name).toLowerCase() === "bcc"));
  });
});

Deno.test("a text created as given reads back exactly, and a draft saved again and again does not grow (RFC 8621 §4.6, §4.1.4)", async () => {
  await withAliceAndBob(async (t, alice) => {
    const drafts = (await mailboxesByName(t, alice)).Drafts.id as string;
    const save = async (text: string, html?: string) => {
      const result = await mailCall(t, "Email/set", {
        create: {
          d: {
            mailboxIds: { [drafts]: true },
            subject: "draft",
            bodyValues: { t: { value: text }, ...(html === undefined ? {} : { h: { value: html } }) },
            textBody: [{ partId: "t", type: "text/plain" }],
            ...(html === undefined ? {} : { htmlBody: [{ partId: "h", type: "text/html" }] }),
          },
        },
      }, alice);
      const made = (result.created as Record<string, Obj> | null)?.d;
      assert.ok(made, JSON.stringify(result.notCreated));
      const email = await getEmail(t, alice, made.id as string, {
        properties: ["textBody", "htmlBody", "bodyValues"],
        fetchTextBodyValues: true,
        fetchHTMLBodyValues: true,
      });
      const values = email.bodyValues as Record<string, Obj>;
      const value = (list: unknown) => values[(list as Obj[])[0].partId as string]?.value;
      return { text: value(email.textBody), html: html === undefined ? undefined : value(email.htmlBody) };
    };
    // §4.6 creates the part from bodyValues; §4.1.4 reads it back as its value: "abc" is "abc", not
    // "abc\n"; line ends inside a value stay as given, and a final line end stays when given.
    for (const text of ["abc", "two\nlines", "ends with a line end\n", "", "x".repeat(200)]) {
      assert.deepEqual(await save(text), { text, html: undefined }, JSON.stringify(text));
      assert.deepEqual(await save(text, `<p>${text}</p>`), { text, html: `<p>${text}</p>` });
    }
    // A draft re-read and saved again ten times is what it was.
    let text = "Dear Bob,\nsee you soon.";
    for (let i = 0; i < 10; i++) text = (await save(text)).text as string;
    assert.equal(text, "Dear Bob,\nsee you soon.");
  });
});

Deno.test("header:* is writable in every form, with :all, at the top level and on body parts (RFC 8621 §4.6, §4.1.3)", async () => {
  await withAliceAndBob(async (t, alice) => {
    const drafts = (await mailboxesByName(t, alice)).Drafts.id as string;
    const top = {
      "header:X-Greeting:asText": "Grüße aus Köln, ☕",
      "header:X-People:asAddresses": [
        { name: "Zoë, Z.", email: "zoe@example.org" },
        { name: "Bob", email: "bob@example.org" },
        { name: null, email: "c@example.org" },
      ],
      "header:To:asGroupedAddresses": [
        { name: "Team Ä", addresses: [{ name: "Ann", email: "ann@example.org" }] },
        { name: null, addresses: [{ name: null, email: "solo@example.org" }] },
      ],
      "header:X-Ids:asMessageIds": ["one@example.org", "two@example.org"],
      "header:Resent-Date:asDate": "2026-12-05T08:15:00-05:00",
      "header:List-Post:asURLs": ["mailto:list@example.org", "https://example.org/post?x=1"],
      "header:X-Tag:all": [" one", " two"],
      "header:Comments:asText:all": ["first", "second"],
      "header:Date:asDate": "2026-12-06T10:30:00+01:00",
      "header:Message-ID:asMessageIds": ["chosen@example.org"],
    };
    const part = {
      partId: "t",
      type: "text/plain",
      cid: "text@example.org",
      language: ["de"],
      location: "https://example.org/text",
      "header:X-Part:asText": "Teil ü",
      "header:X-Part-Tag:all": [" a", " b"],
    };
    const result = await mailCall(t, "Email/set", {
      create: {
        d: {
          mailboxIds: { [drafts]: true },
          subject: "forms",
          ...top,
          bodyValues: { t: { value: "abc" } },
          textBody: [part],
        },
      },
    }, alice);
    const made = (result.created as Record<string, Obj> | null)?.d;
    assert.ok(made, JSON.stringify(result.notCreated));
    const email = await getEmail(t, alice, made.id as string, {
      properties: [...Object.keys(top), "to", "sentAt", "messageId", "headers", "textBody", "bodyValues"],
      bodyProperties: [
        "partId",
        "cid",
        "language",
        "location",
        "header:X-Part:asText",
        "header:X-Part-Tag:all",
      ],
      fetchTextBodyValues: true,
    });
    // Each form reads back as it was written (§4.1.3: the same forms are read and written).
    for (const [property, value] of Object.entries(top)) {
      assert.deepEqual(email[property], value, property);
    }
    assert.deepEqual(email.to, [{ name: "Ann", email: "ann@example.org" }, {
      name: null,
      email: "solo@example.org",
    }]);
    assert.equal(email.sentAt, "2026-12-06T10:30:00+01:00");
    assert.deepEqual(email.messageId, ["chosen@example.org"]);
    // The Date and Message-ID given replace the server's: each field is there once.
    const count = (name: string) =>
      (email.headers as Obj[]).filter((h) => String(h.name).toLowerCase() === name).length;
    assert.equal(count("date"), 1);
    assert.equal(count("message-id"), 1);
    assert.equal(count("x-tag"), 2);
    const [text] = email.textBody as Obj[];
    assert.deepEqual({ ...text, partId: undefined }, {
      partId: undefined,
      cid: "text@example.org",
      language: ["de"],
      location: "https://example.org/text",
      "header:X-Part:asText": "Teil ü",
      "header:X-Part-Tag:all": [" a", " b"],
    });
    assert.equal((email.bodyValues as Record<string, Obj>)[text.partId as string].value, "abc");
    // No header field ever has a line longer than RFC 5322's 998 characters, and the message is
    // ASCII in its header (non-ASCII text went into encoded words).
    const raw = await t.fetch(`/jmap/download/${alice.accountId}/${made.blobId}/m.eml`, {
      headers: { authorization: alice.auth },
    });
    const head = (await raw.text()).split("\r\n\r\n")[0];
    assert.ok(head.split("\r\n").every((line) => line.length <= 998));
    assert.match(head, /^X-Greeting: =\?UTF-8\?Q\?/m);
  });
});

Deno.test("textBody and htmlBody parts given by blobId keep their content and properties; an unknown blob is blobNotFound (RFC 8621 §4.6)", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const drafts = (await mailboxesByName(t, alice)).Drafts.id as string;
    const textBlob = await uploadBlob(t, alice, new TextEncoder().encode("Grüße from a file"));
    const htmlBlob = await uploadBlob(t, alice, new TextEncoder().encode("<p>from a file</p>"));
    const bobsBlob = await uploadBlob(t, bob, new TextEncoder().encode("bob's"));
    const result = await mailCall(t, "Email/set", {
      create: {
        d: {
          mailboxIds: { [drafts]: true },
          subject: "from blobs",
          textBody: [{
            blobId: textBlob,
            type: "text/plain",
            charset: "utf-8",
            size: 999,
            language: ["en"],
            "header:X-Source:asText": "upload",
          }],
          htmlBody: [{ blobId: htmlBlob, type: "text/html", location: "https://example.org/p", cid: "h@x" }],
          attachments: [{ blobId: textBlob, type: "text/plain", name: "note.txt", "header:X-Att": " yes" }],
        },
        unknown: {
          mailboxIds: { [drafts]: true },
          textBody: [{ blobId: bobsBlob, type: "text/plain" }],
        },
      },
    }, alice);
    const made = (result.created as Record<string, Obj> | null)?.d;
    assert.ok(made, JSON.stringify(result.notCreated));
    // §4.6: parts given by blobId are created from the blob's content, not refused.
    const email = await getEmail(t, alice, made.id as string, {
      properties: ["textBody", "htmlBody", "attachments", "bodyValues"],
      bodyProperties: [
        "partId",
        "type",
        "charset",
        "name",
        "cid",
        "language",
        "location",
        "header:X-Source:asText",
        "header:X-Att",
      ],
      fetchAllBodyValues: true,
    });
    const values = email.bodyValues as Record<string, Obj>;
    const [text] = email.textBody as Obj[];
    const [html] = email.htmlBody as Obj[];
    const [file] = email.attachments as Obj[];
    assert.equal(values[text.partId as string].value, "Grüße from a file");
    assert.equal(text.charset, "utf-8");
    assert.deepEqual(text.language, ["en"]);
    assert.equal(text["header:X-Source:asText"], "upload");
    assert.equal(values[html.partId as string].value, "<p>from a file</p>");
    assert.equal(html.location, "https://example.org/p");
    assert.equal(html.cid, "h@x");
    assert.equal(file.name, "note.txt");
    assert.equal(file["header:X-Att"], " yes");
    // An unknown blob (here Bob's, which Alice cannot read) is blobNotFound.
    const refused = (result.notCreated as Record<string, Obj>).unknown;
    assert.equal(refused.type, "blobNotFound", JSON.stringify(refused));
    assert.deepEqual(refused.notFound, [bobsBlob]);
  });
});

Deno.test("creating: any malformed value of any property is a SetError, never a serverFail (RFC 8621 §4.6)", async () => {
  await withAliceAndBob(async (t, alice) => {
    const drafts = (await mailboxesByName(t, alice)).Drafts.id as string;
    const odd: unknown[] = [
      null,
      0,
      -1,
      1.5,
      true,
      "",
      "\r\n",
      "\u0000",
      "x".repeat(2000),
      [],
      [null],
      [1],
      {},
      {
        name: 1,
      },
      [{ email: 1 }],
      [{ name: null, addresses: 1 }],
      { __proto__: 1 },
      ["a\r\nb"],
      "2026-13-45T99:00:00Z",
    ];
    const keys = [
      "from",
      "to",
      "subject",
      "sentAt",
      "messageId",
      "header:X-A",
      "header:X-A:asText",
      "header:X-A:asAddresses",
      "header:X-A:asGroupedAddresses",
      "header:X-A:asMessageIds",
      "header:X-A:asDate",
      "header:X-A:asURLs",
      "header:X-A:all",
      "header:X-A:asDate:all",
      "header:Date:asDate",
      "header:bad name",
      "header:X-A:asNothing",
      "bodyValues",
      "textBody",
      "attachments",
      "bodyStructure",
      "keywords",
    ];
    const partKeys = [
      "partId",
      "blobId",
      "type",
      "charset",
      "name",
      "cid",
      "language",
      "header:X-P:all",
      "subParts",
    ];
    const create: Record<string, Obj> = {};
    let n = 0;
    for (const key of keys) {
      for (const value of odd) {
        create[`c${n++}`] = {
          mailboxIds: { [drafts]: true },
          bodyValues: { t: { value: "hi" } },
          textBody: [{ partId: "t" }],
          [key]: value,
        };
      }
    }
    for (const key of partKeys) {
      for (const value of odd) {
        create[`c${n++}`] = {
          mailboxIds: { [drafts]: true },
          bodyValues: { t: { value: "hi" } },
          bodyStructure: { type: "multipart/mixed", subParts: [{ partId: "t", [key]: value }] },
        };
      }
    }
    for (let from = 0; from < n; from += 200) {
      const batch = Object.fromEntries(Object.entries(create).slice(from, from + 200));
      const result = await mailCall(t, "Email/set", { create: batch }, alice);
      for (const [id, error] of Object.entries((result.notCreated ?? {}) as Record<string, Obj>)) {
        assert.notEqual(error.type, "serverFail", `${id} ${JSON.stringify(batch[id])}: ${error.description}`);
      }
    }
  });
});
