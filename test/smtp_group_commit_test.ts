/**
 * Group commit at the MX: sessions that finish their DATA together share one transaction, yet each
 * is answered for its own message. Twelve sessions at once: every message to alice is acknowledged
 * and stored; of two messages to frank, whose quota has room for one, one is acknowledged and
 * stored and the other refused with 452 4.2.2 alone, without failing the messages it was written
 * with. The Inbox's counts and its Mailbox/changes entry come out right. A message whose write fails
 * (a trigger aborts its INSERT) is answered 451 alone; the messages batched with it are stored.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createUsers, mailboxState, mailCall, type Obj, serverTarget } from "./mail_helpers.ts";
import { rawDialogue, smtpMessage, startMxProcess, subjects } from "./smtp_helpers.ts";

Deno.test("sessions finishing together are each answered for their own message", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-mx-group-" });
  const server = await startMxProcess(dataDir);
  try {
    const target = serverTarget(server.url);
    const [alice] = await createUsers(target, ["alice"]);
    const [frank] = await createUsers(target, ["frank"], { quotas: { maxDiskQuota: 3000 } });
    const send = (to: string, subject: string, body?: string) =>
      rawDialogue(server.smtpPort, [
        "EHLO client.test\r\n",
        "MAIL FROM:<sender@remote.test>\r\n",
        `RCPT TO:<${to}>\r\n`,
        "DATA\r\n",
        smtpMessage(subject, body) + ".\r\n",
        "QUIT\r\n",
      ]);
    const before = await mailboxState(target, alice);
    const replies = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => send("alice@example.org", `together ${i}`)),
      send("frank@example.org", "frank 1", "f".repeat(1500)),
      send("frank@example.org", "frank 2", "g".repeat(1500)),
    ]);
    for (const reply of replies.slice(0, 10)) assert.match(reply, /^250 2\.6\.0 /m, reply);
    const frankReplies = replies.slice(10).map((r) => /^(250 2\.6\.0|452 4\.2\.2) /m.exec(r)?.[1]).sort();
    assert.deepEqual(frankReplies, ["250 2.6.0", "452 4.2.2"], replies.slice(10).join("\n"));
    assert.deepEqual(
      await subjects(server, alice),
      Array.from({ length: 10 }, (_, i) => `together ${i}`).sort(),
    );
    assert.equal((await subjects(server, frank)).length, 1);
    // The Inbox's counts and its change are right however the messages were grouped.
    const { list } = await mailCall(target, "Mailbox/get", { properties: ["role", "totalEmails"] }, alice);
    const inbox = (list as Obj[]).find((m) => m.role === "inbox")!;
    assert.equal(inbox.totalEmails, 10);
    const changes = await mailCall(target, "Mailbox/changes", { sinceState: before }, alice);
    assert.deepEqual(changes.updated, [inbox.id]);
    assert.deepEqual(changes.updatedProperties, [
      "totalEmails",
      "unreadEmails",
      "totalThreads",
      "unreadThreads",
    ]);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a message that cannot be written is refused alone, and the messages written with it are stored", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-mx-group-poison-" });
  const server = await startMxProcess(dataDir);
  try {
    const target = serverTarget(server.url);
    const [alice] = await createUsers(target, ["alice"]);
    // A real failure inside the write's transaction, for one message only: SQLite aborts its INSERT.
    const db = new DatabaseSync(`${dataDir}/postern.db`);
    db.exec(`CREATE TRIGGER poison BEFORE INSERT ON emails WHEN NEW.subject = 'poison'
      BEGIN SELECT RAISE(ABORT, 'poisoned message'); END`);
    db.close();
    const send = (subject: string) =>
      rawDialogue(server.smtpPort, [
        "EHLO client.test\r\n",
        "MAIL FROM:<sender@remote.test>\r\n",
        "RCPT TO:<alice@example.org>\r\n",
        "DATA\r\n",
        smtpMessage(subject) + ".\r\n",
        "QUIT\r\n",
      ]);
    const names = [...Array.from({ length: 8 }, (_, i) => `together ${i}`), "poison"];
    const replies = await Promise.all(names.map(send));
    for (const reply of replies.slice(0, 8)) assert.match(reply, /^250 2\.6\.0 /m, reply);
    assert.match(replies[8], /^451 4\.3\.0 /m, replies[8]);
    assert.deepEqual(await subjects(server, alice), names.slice(0, 8).sort());
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
