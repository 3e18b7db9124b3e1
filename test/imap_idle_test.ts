/**
 * IDLE with a mailbox selected against a real `postern serve`: writes of any kind and any process are
 * pushed to the idling client as they commit (RFC 2177): a JMAP import (EXISTS), a JMAP keyword
 * change (FETCH FLAGS), an append by another process on the same database file (EXISTS), another
 * IMAP session's EXPUNGE (EXPUNGE, allowed during IDLE), the mailbox deleted (BYE), the sharer of
 * the selected mailbox deleted by the `postern` CLI on the database file (BYE during IDLE); and imapflow's
 * events for the same pushes.
 */
import assert from "node:assert/strict";
import { decodeId } from "../src/model/ids.ts";
import { ImapFlow } from "imapflow";
import { cli, HANG_GUARD_MS, PASSWORD, until } from "./helpers.ts";
import { imapLogins, imapPeersMissing, ImapTalk, startImapProcess } from "./imap_helpers.ts";
import {
  createMailbox,
  createUsers,
  mailboxesByName,
  mailCall,
  type Obj,
  rights,
  serverTarget,
  setMailboxes,
  share,
  type Who,
} from "./mail_helpers.ts";
import { distinctMessage, imported } from "./email_helpers.ts";

const ignore = imapPeersMissing("IMAP IDLE");

const mail = distinctMessage;

/** The next line the server sends, failing (not hanging) if none comes within the hang guard. */
async function nextLine(talk: ImapTalk): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("no line from the server")), HANG_GUARD_MS);
  });
  try {
    return await Promise.race([talk.line(), guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Appends `count` messages from another process on the same database file (test/imap_append_child.ts). */
async function appendFromAnotherProcess(dataDir: string, who: Who, mailboxId: string): Promise<number[]> {
  const account = decodeId(who.accountId)!;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./imap_append_child.ts", import.meta.url).pathname,
      dataDir,
      String(account),
      String(account),
      String(decodeId(mailboxId)),
      "1",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

Deno.test({
  name: "IMAP IDLE is woken by JMAP, by another process and by another IMAP session",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-idle-" });
    const server = await startImapProcess(dataDir);
    const { login, closeAll } = imapLogins(server);
    try {
      const target = serverTarget(server.url);
      const [alice, bob] = await createUsers(target, ["alice", "bob"]);
      const inbox = (await mailboxesByName(target, alice)).Inbox.id as string;

      await t.step("a raw IDLE hears JMAP, another process and another IMAP session", async () => {
        const talk = await login(alice);
        await talk.command("SELECT INBOX");
        await talk.write("i1 IDLE\r\n");
        assert.equal(await nextLine(talk), "+ idling");

        const first = await imported(target, alice, mail(), { mailboxIds: [inbox] } as never);
        assert.equal(await nextLine(talk), "* 1 EXISTS");

        await mailCall(target, "Email/set", {
          update: { [first.id as string]: { "keywords/$flagged": true } },
        }, alice);
        assert.equal(await nextLine(talk), "* 1 FETCH (FLAGS (\\Flagged))");

        await appendFromAnotherProcess(dataDir, alice, inbox);
        assert.equal(await nextLine(talk), "* 2 EXISTS");

        await mailCall(target, "Email/set", {
          update: { [first.id as string]: { "keywords/$deleted": true } },
        }, alice);
        assert.equal(await nextLine(talk), "* 1 FETCH (FLAGS (\\Deleted \\Flagged))");
        const other = await login(alice);
        await other.command("SELECT INBOX");
        assert.deepEqual((await other.command("EXPUNGE")).slice(0, 1), ["* 1 EXPUNGE"]);
        assert.equal(await nextLine(talk), "* 1 EXPUNGE");

        await talk.write("DONE\r\n");
        assert.equal(await nextLine(talk), "i1 OK IDLE terminated");
        assert.deepEqual(await talk.command("NOOP"), ["t3 OK NOOP completed"]);
      });

      await t.step("the mailbox deleted during IDLE ends the session with BYE", async () => {
        const box = await createMailbox(target, alice, { name: "Doomed" });
        const talk = await login(alice);
        await talk.command("SELECT Doomed");
        await talk.write("i2 IDLE\r\n");
        assert.equal(await nextLine(talk), "+ idling");
        await setMailboxes(target, alice, { destroy: [box.id], onDestroyRemoveEmails: true });
        assert.equal(await nextLine(talk), "* BYE Selected mailbox was deleted, have to disconnect.");
        assert.ok(await talk.closed());
      });

      await t.step(
        "the postern CLI deleting the sharer, in another process: BYE during IDLE",
        async () => {
          const team = await createMailbox(target, bob, { name: "Team" });
          await share(target, bob, team.id as string, { [alice.accountId]: rights("mayReadItems") });
          const talk = await login(alice);
          const list = await talk.command('LIST "" "Other Users/*"');
          const line = list.find((l) => l.endsWith('/Team"'));
          assert.ok(line, list.join("\n"));
          assert.match(
            (await talk.command(`SELECT ${line.slice(line.lastIndexOf(' "') + 1)}`)).at(-1)!,
            /OK/,
          );
          await talk.write("i3 IDLE\r\n");
          assert.equal(await nextLine(talk), "+ idling");
          const deleted = await cli(["--data", dataDir, "delete", "account", bob.accountId, "--json"]);
          assert.equal(deleted.code, 0, deleted.stderr);
          // The deletion logs a row in the viewer's account (the sharer's own log goes with it): the
          // idling session is woken, syncs and ends, with no command from the client.
          assert.equal(await nextLine(talk), "* BYE Selected mailbox was deleted, have to disconnect.");
        },
      );
      await t.step("imapflow hears exists, flags and expunge while it idles", async () => {
        const imap = new ImapFlow({
          host: "127.0.0.1",
          port: server.imapsPort,
          secure: true,
          tls: { rejectUnauthorized: false },
          auth: { user: alice.emailAddress, pass: PASSWORD },
          logger: false,
        });
        const events: Obj[] = [];
        imap.on("exists", (data) => events.push({ event: "exists", count: data.count }));
        imap.on("flags", (data) => events.push({ event: "flags", seq: data.seq, flags: [...data.flags] }));
        imap.on("expunge", (data) => events.push({ event: "expunge", seq: data.seq }));
        await imap.connect();
        try {
          const opened = await imap.mailboxOpen("INBOX");
          assert.equal(opened.exists, 1);
          const idling = imap.idle();
          const added = await imported(target, alice, mail(), { mailboxIds: [inbox] } as never);
          await until(
            () => events.some((e) => e.event === "exists" && e.count === 2),
            "EXISTS 2 in imapflow",
          );
          await mailCall(target, "Email/set", {
            update: { [added.id as string]: { "keywords/$seen": true } },
          }, alice);
          await until(
            () => events.some((e) => e.event === "flags" && e.seq === 2),
            "FETCH FLAGS in imapflow",
          );
          assert.deepEqual(events.find((e) => e.event === "flags")!.flags, ["\\Seen"]);
          await mailCall(target, "Email/set", { destroy: [added.id] }, alice);
          await until(() => events.some((e) => e.event === "expunge" && e.seq === 2), "EXPUNGE in imapflow");
          await imap.noop();
          await idling.catch(() => undefined);
        } finally {
          await imap.logout().catch(() => undefined);
        }
      });
    } finally {
      closeAll();
      await server.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
    }
  },
});
