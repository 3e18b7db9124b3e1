/**
 * Email/copy (RFC 8621 §4.7) and Blob/copy (RFC 8620 §6.3) between accounts: rights read in the
 * source and written in the target, content stored once, onSuccessDestroyOriginal as an implicit
 * Email/set, and clear refusals.
 */
import assert from "node:assert/strict";
import { blobRows, imported, message, uploadBlob } from "./email_helpers.ts";
import {
  adminSetAccounts,
  mailboxesByName,
  mailCall,
  mailError,
  mailRequest,
  type Obj,
  rights,
  share,
  withAliceAndBob,
} from "./mail_helpers.ts";

Deno.test("a sharer copies an email into its own account; with onSuccessDestroyOriginal the original goes", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const aliceInbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const bobInbox = (await mailboxesByName(t, bob)).Inbox.id as string;
    const original = await imported(t, alice, message("Subject: to be copied\n\nhello\n"), {
      keywords: ["$flagged"],
    });
    await share(t, alice, aliceInbox, { [bob.accountId]: rights("mayReadItems") });
    const before = blobRows(t);
    const copy = await mailCall(t, "Email/copy", {
      fromAccountId: alice.accountId,
      accountId: bob.accountId,
      create: { c: { id: original.id, mailboxIds: { [bobInbox]: true } } },
    }, bob);
    const created = (copy.created as Record<string, Obj> | null)?.c;
    assert.ok(created, JSON.stringify(copy));
    assert.equal(created.blobId, original.blobId, "the same content, the same blob id");
    assert.equal(blobRows(t), before, "stored once");
    const got = await mailCall(t, "Email/get", {
      ids: [created.id],
      properties: ["subject", "keywords", "mailboxIds"],
    }, bob);
    assert.deepEqual(got.list, [{
      id: created.id,
      subject: "to be copied",
      keywords: { $flagged: true },
      mailboxIds: { [bobInbox]: true },
    }]);

    // Moving (copy, then destroy the original) needs mayRemoveItems in the source.
    const second = await imported(t, alice, message("Subject: to be moved\n\nbye\n"));
    const refusedMove = await mailRequest(t, [["Email/copy", {
      fromAccountId: alice.accountId,
      accountId: bob.accountId,
      create: { m: { id: second.id, mailboxIds: { [bobInbox]: true } } },
      onSuccessDestroyOriginal: true,
    }, "0"]], bob.auth);
    const [[copyName], [setName, setResult]] = refusedMove.methodResponses;
    assert.equal(copyName, "Email/copy");
    assert.equal(setName, "Email/set");
    assert.equal((setResult.notDestroyed as Record<string, Obj>)[second.id as string].type, "forbidden");
    await share(t, alice, aliceInbox, { [bob.accountId]: rights("mayReadItems", "mayRemoveItems") });
    const third = await imported(t, alice, message("Subject: moved for real\n\nok\n"));
    const move = await mailRequest(t, [["Email/copy", {
      fromAccountId: alice.accountId,
      accountId: bob.accountId,
      create: { m: { id: third.id, mailboxIds: { [bobInbox]: true } } },
      onSuccessDestroyOriginal: true,
    }, "0"]], bob.auth);
    assert.deepEqual(move.methodResponses[1][1].destroyed, [third.id]);
    const gone = await mailCall(t, "Email/get", { ids: [third.id] }, alice);
    assert.deepEqual(gone.notFound, [third.id]);
  });
});

Deno.test("copies are refused: what the caller cannot read, a target it cannot write, one account twice", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const aliceInbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const bobInbox = (await mailboxesByName(t, bob)).Inbox.id as string;
    const hidden = await imported(t, alice, message("Subject: private\n\nno\n"));
    await share(t, alice, aliceInbox, { [bob.accountId]: rights("mayReadItems") });
    const fromBob = await imported(t, bob, message("Subject: bob's\n\nyes\n"));
    // Bob may read Alice's Inbox but not write there: a copy into it is refused.
    const intoAlice = await mailCall(t, "Email/copy", {
      fromAccountId: bob.accountId,
      accountId: alice.accountId,
      create: { x: { id: fromBob.id, mailboxIds: { [aliceInbox]: true } } },
    }, bob);
    assert.equal((intoAlice.notCreated as Record<string, Obj>).x.type, "forbidden");
    // An email Bob cannot see is notFound (he sees the Inbox, so share only a new folder and move it).
    const folder = await mailCall(t, "Mailbox/set", { create: { f: { name: "Elsewhere" } } }, alice);
    const elsewhere = ((folder.created as Record<string, Obj>).f.id) as string;
    await mailCall(t, "Email/set", {
      update: {
        [hidden.id as string]: { [`mailboxIds/${aliceInbox}`]: null, [`mailboxIds/${elsewhere}`]: true },
      },
    }, alice);
    const unseen = await mailCall(t, "Email/copy", {
      fromAccountId: alice.accountId,
      accountId: bob.accountId,
      create: {
        y: { id: hidden.id, mailboxIds: { [bobInbox]: true } },
        z: { id: hidden.id, mailboxIds: {}, color: 1 },
      },
    }, bob);
    const refused = unseen.notCreated as Record<string, Obj>;
    assert.equal(refused.y.type, "notFound");
    assert.deepEqual(refused.z.properties, ["color"]);
    const same = await mailError(t, "Email/copy", {
      fromAccountId: bob.accountId,
      accountId: bob.accountId,
      create: {},
    }, bob);
    assert.equal(same.type, "invalidArguments");
  });
});

Deno.test("Blob/copy copies what the caller may read in one account into another it may write; an unknown blob is notFound (RFC 8620 §6.3)", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const aliceInbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const email = await imported(t, alice, message("Subject: shared blob\n\nx\n"));
    const upload = await uploadBlob(t, alice, new TextEncoder().encode("alice's own upload"));
    await share(t, alice, aliceInbox, { [bob.accountId]: rights("mayReadItems") });
    const { methodResponses } = await mailRequest(t, [["Blob/copy", {
      fromAccountId: alice.accountId,
      accountId: bob.accountId,
      blobIds: [email.blobId, upload, "Gnope"],
    }, "0"]], bob.auth);
    const [[name, result]] = methodResponses;
    assert.equal(name, "Blob/copy");
    assert.deepEqual(result.copied, { [email.blobId as string]: email.blobId });
    const notCopied = result.notCopied as Record<string, Obj>;
    // RFC 8620 §6.3: "the notFound SetError error may be returned if the blobId to be copied cannot be
    // found" (Alice's own upload is not readable through her shared Inbox).
    assert.equal(notCopied[upload].type, "notFound");
    assert.equal(notCopied.Gnope.type, "notFound");
    // The copy is Bob's: he downloads it from his own account.
    const download = await t.fetch(`/jmap/download/${bob.accountId}/${email.blobId}/m.eml`, {
      headers: { authorization: bob.auth },
    });
    assert.equal(download.status, 200);
    await download.body?.cancel();
  });
});

Deno.test("a copy past the target's disk quota is overQuota and files nothing", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const aliceInbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const bobInbox = (await mailboxesByName(t, bob)).Inbox.id as string;
    const big = await imported(t, alice, message(`Subject: big\n\n${"x".repeat(5000)}\n`));
    await share(t, alice, aliceInbox, { [bob.accountId]: rights("mayReadItems") });
    await adminSetAccounts(t, { update: { [bob.accountId]: { quotas: { maxDiskQuota: 1000 } } } });
    const copy = await mailCall(t, "Email/copy", {
      fromAccountId: alice.accountId,
      accountId: bob.accountId,
      create: { c: { id: big.id, mailboxIds: { [bobInbox]: true } } },
    }, bob);
    assert.equal(copy.created, null);
    assert.equal((copy.notCreated as Record<string, Obj>).c.type, "overQuota");
    assert.equal((await mailboxesByName(t, bob)).Inbox.totalEmails, 0, "nothing filed");
  });
});
