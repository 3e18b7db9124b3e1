/**
 * Golden tests: each message of test/corpus, imported into a new account and read with Email/get
 * asking for every property (all body values, every body part property, header forms), equals its
 * .json beside it. The corpus holds the nasty cases: nested multiparts, a forwarded message, missing
 * and unclosed boundaries, raw 8-bit headers, an unknown charset, duplicate and huge headers, long
 * lines, encoded words. `UPDATE_GOLDEN=1` rewrites the .json files (review the diff!).
 */
import assert from "node:assert/strict";
import { withApp } from "./jmap_helpers.ts";
import { createUsers, mailboxesByName, mailCall, type Obj } from "./mail_helpers.ts";
import { uploadBlob } from "./email_helpers.ts";

const CORPUS = new URL("./corpus/", import.meta.url);
const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";

const PROPERTIES = [
  "id",
  "blobId",
  "threadId",
  "mailboxIds",
  "keywords",
  "size",
  "receivedAt",
  "messageId",
  "inReplyTo",
  "references",
  "sender",
  "from",
  "to",
  "cc",
  "bcc",
  "replyTo",
  "subject",
  "sentAt",
  "hasAttachment",
  "preview",
  "bodyStructure",
  "bodyValues",
  "textBody",
  "htmlBody",
  "attachments",
  "header:From:all",
  "header:Subject:asText:all",
  "header:From:asAddresses:all",
  "header:Date:asDate",
];
const BODY_PROPERTIES = [
  "partId",
  "blobId",
  "size",
  "headers",
  "name",
  "type",
  "charset",
  "disposition",
  "cid",
  "language",
  "location",
];

const names = [...Deno.readDirSync(CORPUS)].filter((e) => e.name.endsWith(".eml")).map((e) => e.name).sort();

Deno.test("every corpus message imports and reads back as its golden JSON", async () => {
  assert.ok(names.length >= 10, `the corpus has ${names.length} messages`);
  await withApp(async (t) => {
    const [ada] = await createUsers(t, ["ada"]);
    const inbox = (await mailboxesByName(t, ada)).Inbox.id as string;
    for (const name of names) {
      const bytes = Deno.readFileSync(new URL(name, CORPUS));
      const blobId = await uploadBlob(t, ada, bytes);
      const imported = await mailCall(t, "Email/import", {
        emails: { m: { blobId, mailboxIds: { [inbox]: true }, receivedAt: "2026-12-06T12:00:00Z" } },
      }, ada);
      const created = (imported.created as Record<string, Obj> | null)?.m;
      assert.ok(created, `${name}: ${JSON.stringify(imported)}`);
      const got = await mailCall(t, "Email/get", {
        ids: [created.id],
        properties: PROPERTIES,
        bodyProperties: BODY_PROPERTIES,
        fetchAllBodyValues: true,
      }, ada);
      const actual = JSON.stringify((got.list as Obj[])[0], null, 2) + "\n";
      const golden = new URL(name.replace(/\.eml$/, ".json"), CORPUS);
      if (UPDATE) {
        Deno.writeTextFileSync(golden, actual);
        continue;
      }
      const expected = Deno.readTextFileSync(golden);
      assert.deepEqual(JSON.parse(actual), JSON.parse(expected), `${name} differs from its golden JSON`);
    }
  });
});
