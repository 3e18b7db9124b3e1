/**
 * The admin UI on a server (--url) in a real pseudo-terminal: it asks for the password itself, shows the
 * server reachable with its counters, runs x:Action through JMAP and edits settings over JMAP.
 */
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, cli, startServerProcess } from "./helpers.ts";
import { HAS_TMUX, TuiSession } from "./tui_helpers.ts";

Deno.test({
  name: "admin UI on a server: password asked, server reachable, an action run, a setting saved over JMAP",
  ignore: !HAS_TMUX,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-tui-" });
    const server = await startServerProcess(dataDir);
    let tui: TuiSession | undefined;
    try {
      tui = await TuiSession.start(["--url", server.url, "--user", "admin", "tui"]);
      await tui.waitFor("? Password for admin at");
      await tui.type(ADMIN_PASSWORD);
      await tui.keys("Enter");
      const home = await tui.waitFor("? Go to");
      assert.match(home, new RegExp(`Server +reachable at ${server.url.replaceAll(".", "\\.")}`));
      assert.match(home, /Cache hits +\S+ \d+%/);
      assert.match(home, /Accounts +1 users · 0 groups/);

      // Actions come from the server's schema and run as x:Action/set.
      await tui.keys("Down", "Down", "Down", "Down", "Enter");
      let screen = await tui.waitFor("? Run");
      assert.match(screen, /local mode only/);
      await tui.keys("Down", "Enter");
      screen = await tui.waitFor(/Dropped every negative[\s\S]*❯ OK/);
      await tui.keys("Enter");
      await tui.waitFor("? Run");
      await tui.keys("q");

      // A setting through the form generated from /api/schema, saved over JMAP.
      await tui.waitFor("? Go to");
      await tui.keys("Up", "Enter");
      await tui.waitFor("? Edit");
      await tui.keys("Down", "Down", "Enter");
      await tui.waitFor(/accessTokenExpiry +1h[\s\S]*↑↓ move/);
      await tui.keys("Down", "Enter");
      await tui.waitFor("? accessTokenExpiry (default 1h)");
      await tui.keys("C-u");
      await tui.type("2h");
      await tui.keys("Enter");
      await tui.waitFor(/accessTokenExpiry +2h +\(default 1h\)[\s\S]*↑↓ move/);
      const stored = await cli(["--data", dataDir, "get", "oidc-provider", "singleton", "--json"]);
      assert.equal(JSON.parse(stored.stdout).accessTokenExpiry, "2h");
    } finally {
      await tui?.close();
      await server.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
    }
  },
});
