/**
 * The admin UI on a server (--url) in a real pseudo-terminal: it asks for the password itself, shows the
 * server reachable with its counters, runs x:Action through JMAP and edits settings over JMAP.
 */
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, basic, cli } from "./helpers.ts";
import { imported, message } from "./email_helpers.ts";
import { createUsers, serverTarget } from "./mail_helpers.ts";
import { HAS_TMUX, withTuiAndServer } from "./tui_helpers.ts";

Deno.test({
  name: "admin UI on a server: password asked, server reachable, an action run, a setting saved over JMAP",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiAndServer((server) => ["--url", server.url, "--user", "admin", "tui"], async (tui, server) => {
      const wrong = await fetch(`${server.url}/api/account`, {
        headers: { authorization: basic("admin", "nope") },
      });
      await wrong.body?.cancel();
      assert.equal(wrong.status, 401);
      // A user with one message: the dashboard counts both.
      const target = serverTarget(server.url);
      const [alice] = await createUsers(target, ["alice"]);
      await imported(target, alice, message("Subject: hello\n\nfirst message\n"));
      await tui.waitFor("? Password for admin at");
      await tui.type(ADMIN_PASSWORD);
      await tui.keys("Enter");
      const home = await tui.waitFor("? Go to");
      assert.match(home, new RegExp(`Server +reachable at ${server.url.replaceAll(".", "\\.")}`));
      assert.match(home, /Cache hits +\S+ \d+%/);
      assert.match(home, /Accounts +2 users · 0 groups · 1 domain/);
      assert.match(home, /Mail +12 mailboxes · 1 message\n/);
      assert.match(home, /Failed logins +1 in the last hour/);

      // Actions come from the server's schema and run as x:Action/set.
      await tui.choose("Actions");
      let screen = await tui.waitFor("? Run");
      assert.match(screen, /local mode only/);
      await tui.keys("Down", "Enter");
      screen = await tui.waitFor(/Dropped every negative[\s\S]*❯ OK/);
      await tui.keys("Enter");
      await tui.waitFor("? Run");
      await tui.keys("q");

      // A setting through the form generated from /api/schema, saved over JMAP.
      await tui.waitFor("? Go to");
      await tui.choose("Settings");
      await tui.waitFor("? Edit");
      await tui.keys("Down", "Down", "Enter");
      await tui.waitFor(/Lifetime of an access token +1h[\s\S]*↑↓ move/);
      await tui.keys("Down", "Enter");
      await tui.waitFor("? Lifetime of an access token (default 1h)");
      await tui.keys("C-u");
      await tui.type("2h");
      await tui.keys("Enter");
      await tui.waitFor(/Lifetime of an access token +2h +\(default 1h\)[\s\S]*↑↓ move/);
      const stored = await cli(["--data", server.dataDir, "get", "oidc-provider", "singleton", "--json"]);
      assert.equal(JSON.parse(stored.stdout).accessTokenExpiry, "2h");
    }),
});
