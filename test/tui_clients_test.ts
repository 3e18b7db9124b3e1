/**
 * The OAuth clients screen in a real pseudo-terminal (tmux): create a confidential client (its secret
 * shown once and accepted by the token endpoint's check), a refused redirect URI in the rule's words,
 * edit a field through the schema form, a cancelled and a confirmed delete — each checked in the database.
 */
import assert from "node:assert/strict";
import { registerClientWithCli } from "./oauth_helpers.ts";
import { HAS_TMUX, queryObjects, withTuiOnNewDatabase } from "./tui_helpers.ts";

Deno.test({
  name: "OAuth clients screen: create with the secret shown once, edit, cancelled and confirmed delete",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui, dataDir) => {
      await tui.waitFor("? Go to");
      await tui.choose("OAuth clients");
      let screen = await tui.waitFor("+ New client");
      assert.match(screen, /0 clients/);

      // Create a confidential client; a redirect URI with a fragment is refused in the rule's words.
      await tui.keys("n");
      await tui.waitFor("? Kind of client");
      await tui.keys("Enter");
      await tui.waitFor("? Name shown on the sign-in and consent pages");
      await tui.type("Webmail");
      await tui.keys("Enter");
      await tui.waitFor("? The client_id the application presents");
      await tui.type("webmail");
      await tui.keys("Enter");
      await tui.waitFor("? Exact redirect URIs");
      await tui.type("https://mail.example.org/cb#frag");
      await tui.keys("Enter");
      await tui.waitFor("? Grants the client may use");
      await tui.keys("Enter");
      await tui.waitFor("? Scopes the client may ask for");
      await tui.keys("Enter");
      screen = await tui.waitFor(/redirectUris[\s\S]*must be\s+an absolute URI[\s\S]*\? Exact redirect URIs/);
      assert.equal((await queryObjects(dataDir, "oauth-client")).length, 0);
      // Only the refused field is asked again, with what was typed (the prompt may be drawn before its
      // answer is filled in: wait for it); the other answers are kept.
      screen = await tui.waitFor(/\? Exact redirect URIs[\s\S]*cb#frag/);
      assert.doesNotMatch(screen, /Kind of client|Name shown/);
      await tui.keys("C-u");
      await tui.type("https://mail.example.org/cb");
      await tui.keys("Enter");
      screen = await tui.waitFor(/Created client Webmail with client_id webmail[\s\S]*❯ OK/);
      const secret = /Client secret: (\S+)/.exec(screen)?.[1];
      assert.ok(secret && secret.length >= 32, screen);
      let [stored] = await queryObjects(dataDir, "oauth-client");
      assert.equal(stored.clientId, "webmail");
      assert.equal(stored["@type"], "Confidential");
      assert.deepEqual(Object.values(stored.redirectUris as object), ["https://mail.example.org/cb"]);
      assert.equal(stored.secret, undefined, "the secret is never read back");
      assert.ok(!JSON.stringify(stored).includes(secret), "the secret is stored hashed");

      // Edit: requireConsent through the generated form.
      await tui.keys("Enter");
      screen = await tui.waitFor(/Webmail +webmail +Confidential +authorization_code refresh_token/);
      await tui.keys("Down", "Enter");
      screen = await tui.waitFor("? Field");
      assert.doesNotMatch(screen, /The client_id the application/, "an immutable field is not offered");
      assert.match(screen, /Ask users to approve the scopes +yes\n/);
      assert.doesNotMatch(screen, /Where RP-initiated.*default/, "an empty list equals its default");
      await tui.keys("Down", "Down", "Down", "Down", "Down", "Down", "Down", "Enter");
      await tui.waitFor("? Ask users to approve the scopes (default yes)");
      await tui.type("n");
      await tui.keys("Enter");
      await tui.waitFor(/Ask users to approve the scopes +no +\(default yes\)/);
      [stored] = await queryObjects(dataDir, "oauth-client");
      assert.equal(stored.requireConsent, false);

      // Delete, answered no: nothing changes; then yes (past resourceServer, the last field).
      await tui.keys("Down", "Down", "Enter");
      await tui.waitFor("? Delete client Webmail?");
      await tui.keys("Enter");
      await tui.waitFor("❯ Delete…");
      assert.equal((await queryObjects(dataDir, "oauth-client")).length, 1);
      await tui.keys("Enter");
      await tui.waitFor("? Delete client Webmail?");
      await tui.type("y");
      await tui.keys("Enter");
      await tui.waitFor(/Deleted client Webmail\.[\s\S]*❯ OK/);
      assert.equal((await queryObjects(dataDir, "oauth-client")).length, 0);
      await tui.keys("Enter");
      await tui.waitFor("0 clients");
    }),
});

Deno.test({
  name: "OAuth clients screen: a name that copies another client's is refused in the rule's words",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui, dataDir) => {
      await registerClientWithCli(dataDir, {
        name: "Webmail",
        redirectUris: ["https://mail.example.org/cb"],
      });
      await tui.waitFor("? Go to");
      await tui.choose("OAuth clients");
      await tui.waitFor("1 client");
      await tui.keys("n");
      await tui.waitFor("? Kind of client");
      await tui.keys("Enter");
      await tui.waitFor("? Name shown on the sign-in and consent pages");
      await tui.type("WEBMAIL");
      await tui.keys("Enter");
      await tui.waitFor("? The client_id the application presents");
      await tui.keys("Enter");
      await tui.waitFor("? Exact redirect URIs");
      await tui.type("https://evil.example/cb");
      await tui.keys("Enter");
      await tui.waitFor("? Grants the client may use");
      await tui.keys("Enter");
      await tui.waitFor("? Scopes the client may ask for");
      await tui.keys("Enter");
      await tui.waitFor(/name[\s\S]*"Webmail" is\s+already\s+the\s+name\s+of\s+a\s+client/);
      assert.equal((await queryObjects(dataDir, "oauth-client")).length, 1);
    }),
});
