/**
 * OAuth grants in the admin UI (tmux), on the database of a running server: the grants screen lists
 * who is signed in at which client and revokes one; the account's view shows its grants, the delete
 * confirmation counts them, and "Revoke all tokens" ends them — each token refused at its next request.
 */
import assert from "node:assert/strict";
import type { ServerProcess } from "./helpers.ts";
import { registerClientWithCli, TestBrowser, type TestClient } from "./oauth_helpers.ts";
import { authorizationRequest } from "./oauth_security_helpers.ts";
import { HAS_TMUX, queryObjects, withTuiAndServer } from "./tui_helpers.ts";

/** Signs the admin in at `client` through the server's pages and redeems the code; the access token. */
async function signIn(server: ServerProcess, client: TestClient): Promise<string> {
  const request = authorizationRequest(client, { scope: "openid offline_access" });
  const redirect = await new TestBrowser(server.url).authorize(request.url);
  const response = await fetch(`${server.url}/auth/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: redirect.searchParams.get("code")!,
      redirect_uri: client.redirectUri,
      code_verifier: request.verifier,
      client_id: client.clientId,
      client_secret: client.secret!,
    }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.access_token;
}

async function userinfo(server: ServerProcess, token: string): Promise<number> {
  const response = await fetch(`${server.url}/auth/userinfo`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await response.body?.cancel();
  return response.status;
}

Deno.test({
  name:
    "OAuth grants: revoked in the UI, one from the grants screen and all from the account, tokens stop at once",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiAndServer((server) => ["--data", server.dataDir, "tui"], async (tui, server) => {
      const mail = await registerClientWithCli(server.dataDir, { name: "Webmail", clientId: "webmail" });
      const calendar = await registerClientWithCli(server.dataDir, {
        name: "Calendar",
        clientId: "calendar",
      });
      const mailToken = await signIn(server, mail);
      const calendarToken = await signIn(server, calendar);

      // Every grant, newest first; open the calendar's and revoke it.
      await tui.waitFor("? Go to");
      await tui.choose("OAuth grants");
      let screen = await tui.waitFor("Revoke all listed…");
      assert.match(screen, /2 active grants/);
      assert.match(screen, /admin +Calendar \(calendar\) +openid offline_access/);
      assert.match(screen, /admin +Webmail \(webmail\)/);
      await tui.keys("Down", "Enter");
      screen = await tui.waitFor("? Grant");
      assert.match(screen, /Client +Calendar \(calendar\)/);
      assert.match(screen, /Refresh token +yes/);
      await tui.keys("Enter");
      await tui.waitFor("? Revoke 1 grant?");
      await tui.type("y");
      await tui.keys("Enter");
      await tui.waitFor(/Revoked 1 OAuth grant\.[\s\S]*❯ OK/);
      assert.equal(await userinfo(server, calendarToken), 401, "the revoked grant's token stops at once");
      assert.equal(await userinfo(server, mailToken), 200, "the other grant is untouched");
      await tui.keys("Enter");
      screen = await tui.waitFor("1 active grant:");
      assert.doesNotMatch(screen, /calendar/);
      await tui.keys("q");

      // The admin's view: its grant listed; the delete confirmation counts it (cancelled).
      await tui.waitFor("? Go to");
      await tui.choose("Accounts");
      await tui.waitFor("+ New account");
      await tui.keys("Down", "Enter");
      screen = await tui.waitFor("? Account");
      assert.match(screen, /OAuth +1 active grant: Webmail \(webmail\)/);
      await tui.choose("Delete…");
      screen = await tui.waitFor("? Delete admin and everything listed?");
      assert.match(screen, /1 OAuth grants, with their access and refresh tokens/);
      await tui.keys("Enter");
      await tui.waitFor("? Account");

      // Revoke all tokens: asks, names the clients, then the token is refused.
      await tui.choose("Revoke all tokens…");
      screen = await tui.waitFor("? Revoke 1 grant?");
      assert.match(screen, /Clients: Webmail \(webmail\)/);
      await tui.type("y");
      await tui.keys("Enter");
      await tui.waitFor(/Revoked 1 OAuth grant of admin\.[\s\S]*❯ OK/);
      assert.equal(await userinfo(server, mailToken), 401);
      assert.deepEqual(await queryObjects(server.dataDir, "oauth-grant"), []);
      await tui.keys("Enter");
      screen = await tui.waitFor("? Account");
      assert.match(screen, /OAuth +no active grants/);
      await tui.choose("Revoke all tokens…");
      await tui.waitFor(/admin has no active OAuth grants\.[\s\S]*❯ OK/);
    }),
});
