/**
 * ACL (RFC 4314) and QUOTA (RFC 9208) with Python's imaplib against a real `postern serve`: SETACL
 * and DELETEACL round-trip to the JMAP sharing rights (checked with Mailbox/get), the grantee sees
 * the mailbox under "Other Users/" with MYRIGHTS to match, a grantee without `a` may not read the
 * ACL, and GETQUOTAROOT reports the JMAP quota.
 */
import assert from "node:assert/strict";
import { PASSWORD } from "./helpers.ts";
import { imaplib, imapPeersMissing, startImapProcess } from "./imap_helpers.ts";
import {
  adminSetAccounts,
  createUsers,
  mailboxesByName,
  type Obj,
  rights,
  serverTarget,
} from "./mail_helpers.ts";

const ignore = imapPeersMissing("IMAP ACL and QUOTA with imaplib", true);

Deno.test({
  name: "IMAP ACL round-trips to the JMAP sharing rights, and QUOTA reports the JMAP quota",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-acl-" });
    const server = await startImapProcess(dataDir);
    try {
      const target = serverTarget(server.url);
      const [alice, bob] = await createUsers(target, ["alice", "bob"]);
      const run = async (user: string, steps: unknown[][]) => {
        const results = await imaplib({
          port: server.imapsPort,
          tls: "implicit",
          steps: [["login", user, PASSWORD], ...steps, ["logout"]],
        }) as Obj[];
        assert.equal(results[0].typ, "OK", JSON.stringify(results[0]));
        return results.slice(1, -1);
      };
      const refusal = (r: Obj) => String(r.error ?? JSON.stringify(r));

      await t.step("SETACL grants bob rights JMAP shows; GETACL lists owner and grantee", async () => {
        const [created, set, acl, listRights] = await run("alice", [
          ["create", "Shared"],
          ["setacl", "Shared", "bob", "lrsw"],
          ["getacl", "Shared"],
          ["raw", "LISTRIGHTS", "Shared", "bob"],
        ]);
        assert.equal(created.typ, "OK");
        assert.equal(set.typ, "OK", JSON.stringify(set));
        assert.deepEqual(acl.data, ['"Shared" "alice" "lrswipkxtea" "bob" "lrsw"']);
        assert.deepEqual(listRights.data, ['"Shared" "bob" "" "lr" "s" "w" "i" "p" "k" "x" "te" "a"']);
        const shared = (await mailboxesByName(target, alice)).Shared;
        assert.deepEqual(
          (shared.shareWith as Record<string, Obj>)[bob.accountId],
          rights("mayReadItems", "maySetSeen", "maySetKeywords"),
        );
      });

      await t.step(
        "bob sees it under Other Users/alice/ with MYRIGHTS, and may not read or change the ACL",
        async () => {
          const [listed, mine, acl, set] = await run("bob", [
            ["list", '""', '"Other Users/alice/*"'],
            ["myrights", '"Other Users/alice/Shared"'],
            ["getacl", '"Other Users/alice/Shared"'],
            ["setacl", '"Other Users/alice/Shared"', "bob", "lrswa"],
          ]);
          assert.deepEqual(listed.data, ['(\\HasNoChildren) "/" "Other Users/alice/Shared"']);
          assert.deepEqual(mine.data, ['"Other Users/alice/Shared" "lrsw"']);
          assert.match(refusal(acl), /NOPERM/);
          assert.match(refusal(set), /NOPERM/);
        },
      );

      await t.step(
        "+/- rights and DELETEACL change the JMAP grant; then bob no longer sees the mailbox",
        async () => {
          const [add, remove, acl] = await run("alice", [
            ["setacl", "Shared", "bob", "+i"],
            ["setacl", "Shared", "bob", "-w"],
            ["getacl", "Shared"],
          ]);
          assert.equal(add.typ, "OK");
          assert.equal(remove.typ, "OK");
          assert.deepEqual(acl.data, ['"Shared" "alice" "lrswipkxtea" "bob" "lrsi"']);
          const [bad, anyone, nobody] = await run("alice", [
            ["setacl", "Shared", "bob", "lrz"],
            ["setacl", "Shared", "anyone", "lr"],
            ["setacl", "Shared", "nobody-here", "lr"],
          ]);
          assert.match(refusal(bad), /BAD|Unknown right/);
          assert.match(refusal(anyone), /CANNOT/);
          assert.match(refusal(nobody), /NONEXISTENT/);
          const [deleted] = await run("alice", [["deleteacl", "Shared", "bob"]]);
          assert.equal(deleted.typ, "OK");
          const shared = (await mailboxesByName(target, alice)).Shared;
          assert.equal((shared.shareWith as Record<string, Obj> | null)?.[bob.accountId], undefined);
          const [mine] = await run("bob", [["myrights", '"Other Users/alice/Shared"']]);
          assert.match(refusal(mine), /NONEXISTENT/);
        },
      );

      await t.step("GETQUOTAROOT and GETQUOTA report the JMAP quota; SETQUOTA is refused", async () => {
        await adminSetAccounts(target, { update: { [alice.accountId]: { "quotas/maxMailboxes": 50 } } });
        const [root, quota, set] = await run("alice", [
          ["getquotaroot", "INBOX"],
          ["getquota", '""'],
          ["setquota", '""', "(STORAGE 10)"],
        ]);
        assert.equal(root.typ, "OK", JSON.stringify(root));
        assert.match(JSON.stringify(root.data), /INBOX/);
        assert.match(JSON.stringify(root.data), /MAILBOX \d+ 50/);
        assert.deepEqual(quota.data, ['"" (MAILBOX 7 50)']);
        assert.match(refusal(set), /NOPERM/);
      });
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
