/**
 * API keys and app passwords in the admin UI (tmux), on the database of a running server: a key created
 * in the UI authenticates on the server's next request, a refused expiry shows the rule's words, and a
 * deleted key stops working at once; an app password made from the account's detail view logs in.
 */
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, basic } from "./helpers.ts";
import { HAS_TMUX, queryObjects, withTuiAndServer } from "./tui_helpers.ts";

async function status(url: string, authorization: string): Promise<number> {
  const response = await fetch(`${url}/api/account`, { headers: { authorization } });
  await response.body?.cancel();
  return response.status;
}

Deno.test({
  name: "API keys and app passwords: created in the UI they work at once; deleted, they stop at once",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiAndServer((server) => ["--data", server.dataDir, "tui"], async (tui, server) => {
      await tui.waitFor("? Go to");
      await tui.choose("API keys");
      let screen = await tui.waitFor("+ New API key");
      assert.match(screen, /0 API keys/);

      // Create: the account picked by search, a bad expiry refused in the field's words, then none.
      await tui.keys("n");
      await tui.waitFor("? Account");
      await tui.type("adm");
      await tui.waitFor(/admin +admin@example\.org/);
      await tui.keys("Enter");
      await tui.waitFor("? What the api key is for");
      await tui.type("deploy script");
      await tui.keys("Enter");
      await tui.waitFor("? Stops working after this time");
      await tui.type("next tuesday");
      await tui.keys("Enter");
      // Only the refused field is asked again: the account and the description are kept.
      screen = await tui.waitFor(/expiresAt[\s\S]*\? Stops working after this time/);
      assert.doesNotMatch(screen, /\? Account|\? What the api key is for/);
      assert.equal(
        (await queryObjects(server.dataDir, "api-key")).length,
        0,
        "nothing stored after a refusal",
      );
      await tui.keys("C-u", "Enter");
      screen = await tui.waitFor(/Created API key "deploy script"[\s\S]*❯ OK/);
      const secret = /Secret: (\S+)/.exec(screen)?.[1];
      assert.ok(secret, screen);
      assert.equal(await status(server.url, `Bearer ${secret}`), 200, "the key works on the next request");
      const [stored] = await queryObjects(server.dataDir, "api-key");
      assert.equal(stored.description, "deploy script");
      assert.ok(!JSON.stringify(stored).includes(secret), "the secret is never read back");

      // The list, then the key's detail: delete it; it stops working at once.
      await tui.keys("Enter");
      screen = await tui.waitFor(/admin +deploy script +never +\d{4}-\d\d-\d\dT/);
      await tui.keys("Down", "Enter");
      await tui.waitFor("? Field");
      await tui.keys("Down", "Down", "Enter");
      await tui.waitFor('? Delete API key "deploy script"?');
      await tui.type("y");
      await tui.keys("Enter");
      await tui.waitFor(/Deleted API key "deploy script"\.[\s\S]*❯ OK/);
      assert.equal(await status(server.url, `Bearer ${secret}`), 401);
      assert.equal((await queryObjects(server.dataDir, "api-key")).length, 0);
      await tui.keys("Enter");
      await tui.waitFor("0 API keys");
      await tui.keys("q");

      // An app password from the account's own detail view logs in with Basic.
      await tui.waitFor("? Go to");
      await tui.choose("Accounts");
      await tui.waitFor("+ New account");
      await tui.keys("Down", "Enter");
      await tui.waitFor("? Account");
      await tui.choose("App passwords…");
      await tui.waitFor(/App passwords › New|Accounts › admin › App passwords/);
      await tui.waitFor("+ New app password");
      await tui.keys("n");
      await tui.waitFor("? What the app password is for");
      await tui.type("Thunderbird");
      await tui.keys("Enter");
      await tui.waitFor("? Stops working after this time");
      await tui.keys("Enter");
      screen = await tui.waitFor(/Created app password "Thunderbird"[\s\S]*❯ OK/);
      const password = /Secret: (\S+)/.exec(screen)?.[1];
      assert.ok(password, screen);
      assert.equal(await status(server.url, basic("admin@example.org", password)), 200);
      assert.notEqual(password, ADMIN_PASSWORD);
      // Back in the account's view, its keys are counted.
      await tui.keys("Enter");
      await tui.waitFor("+ New app password");
      await tui.keys("q");
      screen = await tui.waitFor("? Account");
      assert.match(screen, /Keys +0 API keys · 1 app password/);

      // A password reset asks whether the app passwords go too (after a leak they should).
      await tui.choose("Reset password…");
      await tui.waitFor("? Password");
      await tui.keys("Enter");
      await tui.waitFor("? Password (at least");
      await tui.type("the admin's new passphrase");
      await tui.keys("Enter");
      await tui.waitFor("? Again, to confirm");
      await tui.type("the admin's new passphrase");
      await tui.keys("Enter");
      await tui.waitFor("? Also revoke the account's app passwords");
      await tui.type("y");
      await tui.keys("Enter");
      screen = await tui.waitFor(/Keys +0 API keys · 0 app passwords[\s\S]*\? Account/);
      assert.equal(
        await status(server.url, basic("admin@example.org", password)),
        401,
        "the app password went",
      );
      assert.equal(await status(server.url, basic("admin@example.org", "the admin's new passphrase")), 200);
    }),
});
