/**
 * Who may see what changes in ANOTHER process (the `postern` CLI on the database file) while a
 * viewer's IMAP session idles in a mailbox (RFC 2177) against a real `postern serve`: the sharer
 * deleted, the grant revoked, the viewer's account disabled or the app password it logged in with
 * deleted. Each reaches the idling session through the change log or the invalidation log within the
 * push latency, and ends it with `* BYE` while it idles (no command needed). The viewer's JMAP event
 * stream hears of the deleted sharer too (a StateChange naming that account), and Mailbox/changes
 * there answers accountNotFound with a new session state, so the client refetches its session.
 */
import assert from "node:assert/strict";
import { cli, HANG_GUARD_MS, PASSWORD, until } from "./helpers.ts";
import { imapLogins, imapPeersMissing, ImapTalk, startImapProcess } from "./imap_helpers.ts";
import { EventStream, managementCall } from "./live_connection_helpers.ts";
import {
  createMailbox,
  createUsers,
  mailRequest,
  type Obj,
  rights,
  serverTarget,
  share,
  type Target,
  type Who,
} from "./mail_helpers.ts";

const ignore = imapPeersMissing("IMAP IDLE and sharing across processes");

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

/** Selects `who`'s view of `owner`'s shared mailbox `name` and starts IDLE. */
async function idleInShared(talk: ImapTalk, name: string): Promise<void> {
  const list = await talk.command('LIST "" "Other Users/*"');
  const line = list.find((l) => l.endsWith(`/${name}"`));
  assert.ok(line, list.join("\n"));
  assert.match((await talk.command(`SELECT ${line.slice(line.lastIndexOf(' "') + 1)}`)).at(-1)!, / OK /);
  await idle(talk);
}

async function idle(talk: ImapTalk): Promise<void> {
  await talk.write("i1 IDLE\r\n");
  assert.equal(await nextLine(talk), "+ idling");
}

/** Runs the CLI on the server's database file (another process), asserting success. */
async function local(dataDir: string, ...args: string[]): Promise<string> {
  const result = await cli(["--data", dataDir, ...args]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

/** Mailbox/changes in `accountId` as `who`: the method response and the session state. */
async function mailboxChanges(target: Target, who: Who, accountId: string) {
  const result = await mailRequest(
    target,
    [["Mailbox/changes", { accountId, sinceState: "0" }, "c0"]],
    who.auth,
  );
  return { response: result.methodResponses[0] as [string, Obj, string], sessionState: result.sessionState };
}

Deno.test({
  name: "IMAP IDLE ends with BYE when another process takes the shared mailbox or the credential away",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-share-wake-" });
    const server = await startImapProcess(dataDir);
    const { login, closeAll } = imapLogins(server);
    try {
      const target = serverTarget(server.url);
      const [alice, bob, carol, dave] = await createUsers(target, ["alice", "bob", "carol", "dave"]);

      await t.step(
        "the CLI deleting the sharer: BYE during IDLE, a StateChange on the event stream",
        async () => {
          const team = await createMailbox(target, bob, { name: "Team" });
          await share(target, bob, team.id as string, { [alice.accountId]: rights("mayReadItems") });
          const before = await mailboxChanges(target, alice, bob.accountId);
          assert.equal(before.response[0], "Mailbox/changes", JSON.stringify(before.response));
          const events = await EventStream.open(
            `${server.url}/jmap/eventsource/?types=*&closeafter=no&ping=0`,
            alice.auth,
          );
          try {
            const talk = await login(alice);
            await idleInShared(talk, "Team");
            await local(dataDir, "delete", "account", bob.accountId, "--json");
            assert.equal(await nextLine(talk), "* BYE Selected mailbox was deleted, have to disconnect.");
            assert.ok(await talk.closed());
            await until(
              () => events.data.some((d) => JSON.parse(d).changed?.[bob.accountId]?.Mailbox !== undefined),
              "a StateChange naming the deleted sharer's account",
            );
            const pushed = events.data.map((d) => JSON.parse(d)).find((d) => d.changed?.[bob.accountId]);
            assert.deepEqual(Object.keys(pushed.changed[bob.accountId]).sort(), [
              "Email",
              "Mailbox",
              "Thread",
            ]);
            const after = await mailboxChanges(target, alice, bob.accountId);
            assert.equal(after.response[0], "error");
            assert.equal(after.response[1].type, "accountNotFound");
            assert.notEqual(after.sessionState, before.sessionState);
          } finally {
            await events.close();
          }
        },
      );

      await t.step("the CLI revoking the grant (mailbox-grant delete): BYE during IDLE", async () => {
        const projects = await createMailbox(target, carol, { name: "Projects" });
        await share(target, carol, projects.id as string, { [alice.accountId]: rights("mayReadItems") });
        const talk = await login(alice);
        await idleInShared(talk, "Projects");
        const grants = JSON.parse(await local(dataDir, "query", "mailbox-grant", "--json")) as Obj[];
        const grant = grants.find((g) => g.ownerId === carol.accountId && g.granteeId === alice.accountId);
        assert.ok(grant, JSON.stringify(grants));
        await local(dataDir, "delete", "mailbox-grant", String(grant.id));
        assert.equal(await nextLine(talk), "* BYE Selected mailbox was deleted, have to disconnect.");
        assert.ok(await talk.closed());
      });

      await t.step("the CLI disabling the viewer's account: BYE during IDLE, and no new login", async () => {
        const talk = await login(dave);
        assert.match((await talk.command("SELECT INBOX")).at(-1)!, / OK /);
        await idle(talk);
        await local(dataDir, "update", "account", dave.accountId, "--field", "enabled=false");
        assert.match(await nextLine(talk), /^\* BYE /);
        assert.ok(await talk.closed());
        const again = await ImapTalk.open(server.imapsPort, { implicitTls: true, certPem: server.certPem });
        try {
          assert.match((await again.command(`LOGIN ${dave.emailAddress} "${PASSWORD}"`)).at(-1)!, / NO /);
        } finally {
          again.close();
        }
      });

      await t.step(
        "the CLI deleting the app password a session logged in with: BYE during IDLE",
        async () => {
          const made = await managementCall(target, alice.auth, "x:AppPassword/set", {
            accountId: alice.accountId,
            create: { k: { description: "mail client" } },
          });
          const created = (made.created as Record<string, Obj>).k;
          const talk = await ImapTalk.open(server.imapsPort, { implicitTls: true, certPem: server.certPem });
          try {
            assert.match(
              (await talk.command(`LOGIN ${alice.emailAddress} "${created.secret}"`)).at(-1)!,
              / OK /,
            );
            // Another session of the same account, logged in with the password, stays.
            const kept = await login(alice);
            assert.match((await talk.command("SELECT INBOX")).at(-1)!, / OK /);
            await idle(talk);
            await local(dataDir, "delete", "app-password", String(created.id));
            assert.match(await nextLine(talk), /^\* BYE /);
            assert.ok(await talk.closed());
            assert.match((await kept.command("NOOP")).at(-1)!, / OK /);
          } finally {
            talk.close();
          }
        },
      );
    } finally {
      closeAll();
      await server.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
    }
  },
});
