/**
 * Sharing in the admin UI (tmux), on the database of a running server: an account's view shows the
 * mailbox grants it gives and holds, the sharing screen lists them with rights in words, and removing
 * one takes the mailbox away from the grantee at the server's next request.
 */
import assert from "node:assert/strict";
import {
  createMailbox,
  createUsers,
  mailboxesByName,
  mailCall,
  type Obj,
  rights,
  serverTarget,
  share,
} from "./mail_helpers.ts";
import { imported, message } from "./email_helpers.ts";
import { HAS_TMUX, queryObjects, withTuiAndServer } from "./tui_helpers.ts";

Deno.test({
  name: "sharing screen: grants given and held in words; removing one unshares it at the server at once",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiAndServer((server) => ["--data", server.dataDir, "tui"], async (tui, server) => {
      const target = serverTarget(server.url);
      const [alice, bob] = await createUsers(target, ["alice", "bob"]);
      const inbox = (await mailboxesByName(target, alice)).Inbox.id as string;
      const projects = await createMailbox(target, alice, { name: "Projects" });
      await share(target, alice, inbox, { [bob.accountId]: rights("mayReadItems", "maySetSeen") });
      await imported(target, alice, message("Subject: shared\n\nA message in the shared Inbox.\n"));
      await share(target, alice, projects.id as string, {
        [bob.accountId]: rights("mayReadItems", "mayAddItems", "mayShare"),
      });

      await tui.waitFor("? Go to");
      await tui.choose("Accounts");
      await tui.waitFor("+ New account");
      await tui.keys("Down", "Down", "Enter");
      let screen = await tui.waitFor("? Account");
      assert.match(screen, /Accounts › alice/);
      assert.match(screen, /Sharing +gives 2 grants \(to bob\) · holds none/);
      assert.match(screen, /Quotas +mailboxes 7 \(no limit\) · disk 51 B \(no limit\) in 1 message/);

      await tui.choose("Sharing…");
      screen = await tui.waitFor("Remove all listed…");
      assert.match(screen, /gives to +bob +Inbox +read, mark read/);
      assert.match(screen, /gives to +bob +Projects +read, add messages, share/);
      await tui.keys("Down", "Enter");
      screen = await tui.waitFor("? Grant");
      assert.match(screen, /Mailbox +Inbox of alice/);
      assert.match(screen, /Rights +read, mark read/);
      await tui.keys("Enter");
      screen = await tui.waitFor("? Remove 1 grant?");
      assert.match(screen, /bob on alice's Inbox: read, mark read/);
      await tui.type("y");
      await tui.keys("Enter");
      await tui.waitFor(/Removed 1 mailbox grant\.[\s\S]*❯ OK/);

      // The server's very next request: bob no longer sees alice's Inbox, only Projects.
      const seen = await mailCall(target, "Mailbox/get", { accountId: alice.accountId, ids: null }, bob);
      assert.deepEqual((seen.list as Obj[]).map((m) => m.name), ["Projects"]);
      await tui.keys("Enter");
      screen = await tui.waitFor("1 grant (to bob)");
      assert.doesNotMatch(screen, /Inbox/);

      // Cancelling "Remove all" keeps the grant.
      await tui.keys("r");
      await tui.waitFor("? Remove 1 grant?");
      await tui.keys("Enter");
      await tui.waitFor("Remove all listed…");
      assert.equal((await queryObjects(server.dataDir, "mailbox-grant")).length, 1);
      await tui.keys("q");
      await tui.waitFor("? Account");

      // Bob's view: the grant he holds.
      await tui.keys("q");
      await tui.waitFor("+ New account");
      await tui.keys("Down", "Down", "Down", "Enter");
      screen = await tui.waitFor("? Account");
      assert.match(screen, /Accounts › bob/);
      assert.match(screen, /Sharing +gives none · holds 1 \(from alice\)/);
      await tui.choose("Sharing…");
      screen = await tui.waitFor("Remove all listed…");
      assert.match(screen, /holds from +alice +Projects +read, add messages, share/);
    }),
});
