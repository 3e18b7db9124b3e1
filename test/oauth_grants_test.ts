/**
 * x:OAuthGrant: the token families of the provider as management objects. An administrator sees
 * every family, a user only their own; /changes follows them; destroying one revokes its tokens on
 * the very next request; nothing creates or edits one but the OAuth flows.
 */
import assert from "node:assert/strict";
import { cli, PASSWORD } from "./helpers.ts";
import { call, createUser, set } from "./jmap_helpers.ts";
import {
  authorizationRequest,
  bearerStatus,
  obtainTokens,
  type Provider,
  redeemCode,
  refresh,
  type Tokens,
  withProvider,
} from "./oauth_security_helpers.ts";

type Grant = Record<string, unknown>;

/** A code flow signed in as `username` (a user made by createUser) in a fresh browser of `p`. */
async function tokensOf(p: Provider, username: string, scope: string): Promise<Tokens> {
  const request = authorizationRequest(p.client, { scope });
  const redirect = await p.browser.authorize(request.url, { username, password: PASSWORD });
  const answer = await redeemCode(p.t, p.client, redirect.searchParams.get("code")!, request.verifier);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as unknown as Tokens;
}

async function grants(p: Provider, options: { auth?: string; accountId?: string } = {}): Promise<Grant[]> {
  return (await call(p.t, "x:OAuthGrant/get", {}, options)).list as Grant[];
}

Deno.test("an administrator lists a token family with its client, scopes and expiry; /changes shows it come and go", () =>
  withProvider(async (p) => {
    const state = (await call(p.t, "x:OAuthGrant/get", { ids: [] })).state as string;
    const before = Date.now() - 1000;
    await obtainTokens(p, { scope: "openid offline_access" });
    const [grant, ...others] = await grants(p);
    assert.equal(others.length, 0);
    assert.equal(grant.clientId, p.client.clientId);
    assert.equal(grant.grantType, "authorization_code");
    assert.deepEqual(grant.scopes, { "0": "openid", "1": "offline_access" });
    assert.equal(grant.hasRefreshToken, true);
    assert.equal(typeof grant.clientName, "string");
    assert.ok(Date.parse(grant.createdAt as string) >= before, `createdAt ${grant.createdAt}`);
    assert.ok(Date.parse(grant.expiresAt as string) > Date.now(), `expiresAt ${grant.expiresAt}`);
    const admin = (await call(p.t, "x:Account/query", { filter: { text: "admin" } })).ids as string[];
    assert.deepEqual([grant.accountId], admin);

    const created = await call(p.t, "x:OAuthGrant/changes", { sinceState: state });
    assert.deepEqual(created.created, [grant.id]);
    const queried = await call(p.t, "x:OAuthGrant/query", { filter: { clientId: p.client.clientId } });
    assert.deepEqual(queried.ids, [grant.id]);
    assert.deepEqual(
      (await call(p.t, "x:OAuthGrant/query", { filter: { grantType: "device_code" } })).ids,
      [],
    );

    const destroyed = await set(p.t, "x:OAuthGrant", { destroy: [grant.id] });
    assert.deepEqual(destroyed.destroyed, [grant.id]);
    const after = await call(p.t, "x:OAuthGrant/changes", { sinceState: created.newState });
    assert.deepEqual(after.destroyed, [grant.id]);
    assert.deepEqual(await grants(p), []);
  }));

Deno.test("destroying a grant revokes its access token on the next request and its refresh token", () =>
  withProvider(async (p) => {
    const tokens = await obtainTokens(p, { scope: "openid offline_access" });
    assert.equal(await bearerStatus(p.t, tokens.access_token), 200);
    const [grant] = await grants(p);
    await set(p.t, "x:OAuthGrant", { destroy: [grant.id] });
    assert.equal(await bearerStatus(p.t, tokens.access_token), 401);
    assert.equal(await bearerStatus(p.t, tokens.access_token, "/jmap/session"), 401);
    const refreshed = await refresh(p.t, p.client, tokens.refresh_token!);
    assert.equal(refreshed.status, 400);
    assert.equal(refreshed.body.error, "invalid_grant");
  }));

Deno.test("a user sees and revokes only their own grants; another's is notFound", () =>
  withProvider(async (p) => {
    const alice = await createUser(p.t, "alice");
    const bob = await createUser(p.t, "bob");
    const aliceTokens = await tokensOf(p, alice.emailAddress, "openid");
    p.browser.cookies.clear();
    await tokensOf(p, bob.emailAddress, "openid email");
    const own = await grants(p, alice);
    assert.equal(own.length, 1);
    assert.equal(own[0].accountId, alice.id);
    const bobs = (await grants(p, bob))[0];
    assert.equal(bobs.accountId, bob.id);
    assert.equal((await grants(p)).length, 2, "the administrator sees both");

    const peek = await call(p.t, "x:OAuthGrant/get", { ids: [bobs.id] }, alice);
    assert.deepEqual(peek.notFound, [bobs.id]);
    const refused = await set(p.t, "x:OAuthGrant", { destroy: [bobs.id] }, alice);
    assert.equal((refused.notDestroyed as Record<string, Grant>)[bobs.id as string].type, "notFound");
    assert.equal((await grants(p, bob)).length, 1, "bob's grant is untouched");

    await set(p.t, "x:OAuthGrant", { destroy: [own[0].id] }, alice);
    assert.equal(await bearerStatus(p.t, aliceTokens.access_token), 401);
  }));

Deno.test("grants are made by the flows only: create and update are forbidden, naming what to do instead", () =>
  withProvider(async (p) => {
    await obtainTokens(p);
    const [grant] = await grants(p);
    const result = await set(p.t, "x:OAuthGrant", {
      create: { new: { scopes: { "0": "openid" } } },
      update: { [grant.id as string]: { expiresAt: "2099-01-01T00:00:00Z" } },
    });
    const notCreated = (result.notCreated as Record<string, Grant>).new;
    assert.equal(notCreated.type, "forbidden");
    assert.match(notCreated.description as string, /made by the server/);
    const notUpdated = (result.notUpdated as Record<string, Grant>)[grant.id as string];
    assert.equal(notUpdated.type, "forbidden");
    assert.match(notUpdated.description as string, /destroy one to revoke it/);
    assert.equal((await grants(p))[0].expiresAt, grant.expiresAt);
  }));

Deno.test("a password change ends the account's grants", () =>
  withProvider(async (p) => {
    const alice = await createUser(p.t, "alice");
    await tokensOf(p, alice.emailAddress, "openid");
    assert.equal((await grants(p)).length, 1);
    await set(p.t, "x:Account", {
      update: {
        [alice.id]: { credentials: { "0": { "@type": "Password", secret: "another strong passphrase 42" } } },
      },
    });
    assert.deepEqual(await grants(p), []);
  }));

Deno.test("the CLI lists grants and deletes one by id while the server runs: its token fails at once", () =>
  withProvider(async (p) => {
    const tokens = await obtainTokens(p, { scope: "openid" });
    const [grant] = await grants(p);
    const listed = await cli(["query", "oauth-grant", "--data", p.t.dataDir, "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as Grant[];
    assert.deepEqual(rows.map((row) => [row.id, row.clientId]), [[grant.id, p.client.clientId]]);
    assert.equal(await bearerStatus(p.t, tokens.access_token), 200);
    const deleted = await cli(["delete", "oauth-grant", grant.id as string, "--data", p.t.dataDir]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(await bearerStatus(p.t, tokens.access_token), 401);
    const again = await cli(["query", "oauth-grant", "--data", p.t.dataDir, "--json"]);
    assert.deepEqual(JSON.parse(again.stdout), []);
    const created = await cli(["create", "oauth-grant", "--data", p.t.dataDir, "--field", "clientId=x"]);
    assert.notEqual(created.code, 0);
    assert.match(created.stderr, /made by the server/);
  }));
