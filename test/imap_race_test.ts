/**
 * Two processes on one database file appending to one mailbox at once never get the same UID, and
 * the mailbox ends with every message under its own UID (store/migrations/041_imap.ts hands them out
 * inside each write's transaction).
 */
import assert from "node:assert/strict";
import { decodeId } from "../src/model/ids.ts";
import { withApp } from "./jmap_helpers.ts";
import { createUsers } from "./mail_helpers.ts";
import { until } from "./helpers.ts";

const COUNT = 60;

Deno.test("two processes appending to one mailbox at once never hand out the same UID", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const viewer = decodeId(alice.accountId)!;
    const imap = t.services.imapMailboxes;
    const inbox = (await imap.resolve(viewer, "INBOX"))!;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./imap_append_child.ts", import.meta.url).pathname,
        t.dataDir,
        String(viewer),
        String(inbox.accountId),
        String(inbox.mailboxId),
        String(COUNT),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    // Start once the other process is writing, so the two really take turns.
    await until(
      async () => (await imap.select(viewer, "INBOX")).messages.length > 0,
      "the child's first append",
    );
    const mine: number[] = [];
    for (let i = 0; i < COUNT; i++) {
      const message = new TextEncoder().encode(
        `From: parent@example.net\r\nSubject: parent ${i}\r\nMessage-ID: <${crypto.randomUUID()}@parent>\r\n\r\nBody\r\n`,
      );
      mine.push((await imap.append(viewer, inbox, { message })).uid);
      // Let the other process in between writes.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const result = await child;
    assert.equal(result.code, 0);
    const theirs = JSON.parse(new TextDecoder().decode(result.stdout).trim().split("\n").pop()!) as number[];
    assert.equal(theirs.length, COUNT);
    const all = [...mine, ...theirs];
    assert.equal(new Set(all).size, 2 * COUNT, "no UID handed out twice");
    for (const uids of [mine, theirs]) {
      assert.deepEqual(uids, [...uids].sort((a, b) => a - b), "each process's UIDs ascend");
    }
    // Whether the two really took turns depends on how the machine schedules them (on a loaded one the
    // child may finish first), so it is not asserted: what must hold either way is asserted above and below.
    const selected = await imap.select(viewer, "INBOX");
    assert.deepEqual(selected.messages.map((m) => m.uid), [...all].sort((a, b) => a - b));
    assert.equal(selected.uidNext, 2 * COUNT + 1);
  }));
