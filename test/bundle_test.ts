/**
 * The single-file bundle (scripts/bundle.ts) carries its workers: a server started from dist's bundle
 * hashes the administrator's password (src/auth/hash_worker.ts) and parses a message above the inline
 * bound in src/mail/parse_pool.ts (src/mail/parse_worker.ts), and queries on its read worker
 * (src/store/read_worker.ts), none of which has a file beside it.
 */
import assert from "node:assert/strict";
import { bundle } from "../scripts/bundle.ts";
import { startServerProcess } from "./helpers.ts";
import { createUsers, mailboxesByName, mailRequest, type Obj, serverTarget } from "./mail_helpers.ts";
import { message, uploadBlob } from "./email_helpers.ts";
import { PARSE_LIMITS } from "../src/mail/mod.ts";

Deno.test("a server run from the bundle imports a message parsed in its embedded worker", async () => {
  const scratch = await Deno.makeTempDir({ prefix: "postern-bundle-test-" });
  const dataDir = `${scratch}/data`;
  await Deno.mkdir(dataDir);
  const entry = await bundle("main.ts", `${scratch}/postern.js`);
  const server = await startServerProcess(dataDir, {}, { entry });
  const target = serverTarget(server.url);
  try {
    const [alice] = await createUsers(target, ["alice"]);
    const inbox = (await mailboxesByName(target, alice)).Inbox.id as string;
    const line = "a line of a message too large to parse on the main thread";
    const bytes = message(
      `From: a@example.org\nSubject: bundled\n\n` +
        `${line}\n`.repeat(Math.ceil((2 * PARSE_LIMITS.inlineBytes) / line.length)),
    );
    assert.ok(bytes.length > PARSE_LIMITS.inlineBytes);
    const blobId = await uploadBlob(target, alice, bytes);
    const answer = await mailRequest(target, [[
      "Email/import",
      { accountId: alice.accountId, emails: { m: { blobId, mailboxIds: { [inbox]: true } } } },
      "c0",
    ]], alice.auth);
    const created = (answer.methodResponses[0][1].created as Record<string, Obj> | null)?.m;
    assert.ok(created?.id, `${JSON.stringify(answer).slice(0, 300)}\n${server.stderr().slice(-1500)}`);
    const [, got] = (await mailRequest(target, [[
      "Email/get",
      { accountId: alice.accountId, ids: [created.id], properties: ["subject", "preview"] },
      "c0",
    ]], alice.auth)).methodResponses[0];
    const email = (got.list as Obj[])[0];
    assert.equal(email.subject, "bundled");
    assert.match(email.preview as string, /^a line of a message/);
    // Email/query runs on the embedded read worker (src/store/read_worker.ts; serve's default is auto).
    const [, found] = (await mailRequest(target, [[
      "Email/query",
      { accountId: alice.accountId, filter: { text: "bundled" } },
      "c0",
    ]], alice.auth)).methodResponses[0];
    assert.deepEqual(found.ids, [created.id], `${JSON.stringify(found)}\n${server.stderr().slice(-1500)}`);
  } finally {
    await server.stop();
    await Deno.remove(scratch, { recursive: true }).catch(() => undefined);
  }
});
