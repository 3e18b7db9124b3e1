/**
 * Tokens against the security checklists (RFC 9700, RFC 6749 §4.1.2, §2.3, OIDC Core): single-use
 * codes, revocation by password and key changes, scopes enforced on JMAP, client authentication, and
 * the signing keys an ID token names.
 */
import assert from "node:assert/strict";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JWK, jwtVerify } from "jose";
import { DatabaseSync } from "node:sqlite";
import { NEXT_KEY_DELAY_MS } from "../src/oauth/signing_keys.ts";
import { basic, type TestApp } from "./helpers.ts";
import { call, CORE, type Invocation, jmap, MAIL, MANAGEMENT } from "./jmap_helpers.ts";
import { registerClient } from "./oauth_helpers.ts";
import {
  authorizationRequest,
  bearerStatus,
  clientAuth,
  ISSUER,
  type JsonAnswer,
  obtainTokens,
  postForm,
  redeemCode,
  refresh,
  withProvider,
} from "./oauth_security_helpers.ts";

const OFFLINE = { scope: "openid offline_access" };

/** The one method response of a JMAP call made with a Bearer token (asserting HTTP 200). */
async function jmapWithToken(t: TestApp, token: string, call: Invocation): Promise<Invocation> {
  const { methodResponses } = await jmap(t, [call], { auth: `Bearer ${token}`, using: [CORE, MANAGEMENT] });
  assert.equal(methodResponses.length, 1);
  return methodResponses[0];
}

/** Test seam: moves every signing key's times `ms` into the past, as if that much time had passed. */
function passKeyTime(t: TestApp, ms: number): void {
  const db = new DatabaseSync(`${t.dataDir}/postern.db`);
  try {
    db.prepare(
      `UPDATE oauth_signing_keys SET created_at = created_at - ?, activates_at = activates_at - ?,
         retired_at = retired_at - ?`,
    ).run(ms, ms, ms);
  } finally {
    db.close();
  }
  t.services.oauth.keys.reload();
}

async function jwks(t: TestApp): Promise<{ keys: JWK[] }> {
  const response = await t.fetch("/auth/jwks.json");
  assert.equal(response.status, 200);
  return await response.json();
}

Deno.test("a code redeemed twice gives invalid_grant and revokes the tokens of the first redemption", () =>
  withProvider(async (p) => {
    const request = authorizationRequest(p.client, OFFLINE);
    const code = (await p.browser.authorize(request.url)).searchParams.get("code")!;
    const first = await redeemCode(p.t, p.client, code, request.verifier);
    assert.equal(first.status, 200);
    const tokens = first.body as { access_token: string; refresh_token: string };
    assert.equal(await bearerStatus(p.t, tokens.access_token), 200);
    const second = await redeemCode(p.t, p.client, code, request.verifier);
    assert.equal(second.status, 400);
    assert.equal(second.body.error, "invalid_grant");
    assert.equal(await bearerStatus(p.t, tokens.access_token), 401);
    assert.equal((await refresh(p.t, p.client, tokens.refresh_token)).body.error, "invalid_grant");
  }));

Deno.test("a replay that arrives while the first redemption issues its tokens revokes them: both get invalid_grant", () =>
  withProvider(async (p) => {
    const request = authorizationRequest(p.client, OFFLINE);
    const code = (await p.browser.authorize(request.url)).searchParams.get("code")!;
    // Test seam: the replay is sent after the code is consumed and its tokens made, before they are
    // recorded against the code (the window two concurrent requests can hit by chance).
    const repository = p.t.services.store.oauth;
    const record = repository.setCodeGrant;
    let replay: JsonAnswer | undefined;
    repository.setCodeGrant = async (hash, grantId) => {
      replay = await redeemCode(p.t, p.client, code, request.verifier);
      return await record(hash, grantId);
    };
    const first = await redeemCode(p.t, p.client, code, request.verifier).finally(() => {
      repository.setCodeGrant = record;
    });
    assert.equal(replay?.status, 400);
    assert.equal(replay?.body.error, "invalid_grant");
    assert.equal(first.status, 400, JSON.stringify(first.body));
    assert.equal(first.body.error, "invalid_grant");
    assert.deepEqual((await call(p.t, "x:OAuthGrant/get", {})).list, [], "no token family is left");
  }));

Deno.test("of two concurrent redemptions of one code at most one gets tokens, and the replay revokes them", () =>
  withProvider(async (p) => {
    const request = authorizationRequest(p.client);
    const code = (await p.browser.authorize(request.url)).searchParams.get("code")!;
    const answers = await Promise.all([
      redeemCode(p.t, p.client, code, request.verifier),
      redeemCode(p.t, p.client, code, request.verifier),
    ]);
    const issued = answers.filter((a) => a.status === 200);
    assert.ok(issued.length <= 1, "the code was redeemed twice");
    for (const refused of answers.filter((a) => a.status !== 200)) {
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, "invalid_grant");
    }
    // RFC 6749 §4.1.2: whichever came second is a replay, so nothing the code issued may stay valid.
    for (const { body } of issued) assert.equal(await bearerStatus(p.t, body.access_token as string), 401);
    assert.deepEqual((await call(p.t, "x:OAuthGrant/get", {})).list, [], "no token family is left");
  }));

Deno.test("a password change revokes access tokens on the next request and refresh tokens", () =>
  withProvider(async (p) => {
    const tokens = await obtainTokens(p, OFFLINE);
    assert.equal(await bearerStatus(p.t, tokens.access_token), 200);
    await p.t.services.objects.update("account", "b", {
      credentials: { "0": { "@type": "Password", secret: "a brand new password 123" } },
    }, "system");
    assert.equal(await bearerStatus(p.t, tokens.access_token), 401);
    assert.equal(await bearerStatus(p.t, tokens.access_token, "/api/account"), 401);
    const refreshed = await refresh(p.t, p.client, tokens.refresh_token!);
    assert.equal(refreshed.body.error, "invalid_grant", JSON.stringify(refreshed.body));
  }));

Deno.test("a new encryptionKey revokes every token, and tokens issued after it work", () =>
  withProvider(async (p) => {
    const tokens = await obtainTokens(p, OFFLINE);
    assert.equal(await bearerStatus(p.t, tokens.access_token), 200);
    await p.t.services.objects.update("oidc-provider", "singleton", {
      encryptionKey: { "@type": "Value", secret: "x".repeat(64) },
    }, "system");
    assert.equal(await bearerStatus(p.t, tokens.access_token), 401);
    const refreshed = await refresh(p.t, p.client, tokens.refresh_token!);
    assert.equal(refreshed.body.error, "invalid_grant", JSON.stringify(refreshed.body));
    const fresh = await obtainTokens(p, OFFLINE);
    assert.equal(await bearerStatus(p.t, fresh.access_token), 200);
    assert.equal((await refresh(p.t, p.client, fresh.refresh_token!)).status, 200);
  }));

Deno.test("a token without the admin scope gets a JMAP forbidden error for management methods, never 401", () =>
  withProvider(async (p) => {
    const submission = await obtainTokens(p, { scope: "openid urn:ietf:params:jmap:submission" });
    const [name, args] = await jmapWithToken(p.t, submission.access_token, ["x:Account/get", {
      accountId: "b",
    }, "c0"]);
    assert.equal(name, "error");
    assert.equal(args.type, "forbidden");
    const mail = await obtainTokens(p, { scope: "openid urn:ietf:params:jmap:mail" });
    const [domainName, domainArgs] = await jmapWithToken(p.t, mail.access_token, ["x:Domain/get", {
      accountId: "b",
    }, "c0"]);
    assert.equal(domainName, "error");
    assert.equal(domainArgs.type, "forbidden");
    for (const token of [submission.access_token, mail.access_token]) {
      assert.equal(await bearerStatus(p.t, token, "/api/account"), 200);
    }
  }));

Deno.test("a submission-only token gets a JMAP forbidden error for Mailbox/get, never 401", () =>
  withProvider(async (p) => {
    const submission = await obtainTokens(p, { scope: "openid urn:ietf:params:jmap:submission" });
    // jmap() asserts the HTTP 200: the token is valid, only the method is outside its scopes.
    const { methodResponses } = await jmap(p.t, [["Mailbox/get", { accountId: "b" }, "c0"]], {
      auth: `Bearer ${submission.access_token}`,
      using: [CORE, MAIL],
    });
    const [[name, args]] = methodResponses;
    assert.equal(name, "error");
    assert.equal(args.type, "forbidden");
    assert.match(args.description as string, /urn:ietf:params:jmap:mail/);
    const mail = await obtainTokens(p, { scope: "openid urn:ietf:params:jmap:mail" });
    const [[allowed]] = (await jmap(p.t, [["Mailbox/get", { accountId: "b" }, "c0"]], {
      auth: `Bearer ${mail.access_token}`,
      using: [CORE, MAIL],
    })).methodResponses;
    assert.equal(allowed, "Mailbox/get");
  }));

Deno.test("a token with urn:postern:admin may call management methods", () =>
  withProvider(async (p) => {
    const admin = await obtainTokens(p, { scope: "openid urn:postern:admin" });
    const [name, args] = await jmapWithToken(p.t, admin.access_token, ["x:Domain/get", {
      accountId: "b",
    }, "c0"]);
    assert.equal(name, "x:Domain/get", JSON.stringify(args));
    assert.equal((args.list as unknown[]).length, 1);
    assert.equal(await bearerStatus(p.t, admin.access_token, "/api/account"), 200);
  }));

Deno.test("a wrong client secret in Basic is 401 invalid_client with a WWW-Authenticate challenge", () =>
  withProvider(async ({ t, client }) => {
    const form = { grant_type: "refresh_token", refresh_token: "x" };
    const viaBasic = await postForm(t, "/auth/token", form, {
      authorization: basic(client.clientId, "wrong secret"),
    });
    assert.equal(viaBasic.status, 401);
    assert.equal(viaBasic.body.error, "invalid_client");
    assert.match(viaBasic.headers.get("www-authenticate") ?? "", /^Basic /);
    const viaForm = await postForm(t, "/auth/token", {
      ...form,
      client_id: client.clientId,
      client_secret: "wrong secret",
    });
    assert.equal(viaForm.status, 401);
    assert.equal(viaForm.body.error, "invalid_client");
    const none = await postForm(t, "/auth/token", { ...form, client_id: client.clientId });
    assert.equal(none.body.error, "invalid_client");
  }));

Deno.test("a client using Basic and client_secret in the body at once gets invalid_request (RFC 6749 §5.2)", () =>
  withProvider(async ({ t, client }) => {
    const answer = await postForm(t, "/auth/token", {
      grant_type: "refresh_token",
      refresh_token: "x",
      client_secret: client.secret!,
    }, { authorization: basic(client.clientId, client.secret!) });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error, "invalid_request");
  }));

Deno.test("a public client sending a secret is refused with invalid_client", () =>
  withProvider(async ({ t, client }) => {
    const form = { grant_type: "refresh_token", refresh_token: "x" };
    const inBody = await postForm(t, "/auth/token", { ...form, ...clientAuth(client), client_secret: "s" });
    assert.equal(inBody.body.error, "invalid_client");
    const inBasic = await postForm(t, "/auth/token", form, { authorization: basic(client.clientId, "s") });
    assert.equal(inBasic.body.error, "invalid_client");
    assert.equal(inBasic.status, 401);
  }, { type: "Public" }));

Deno.test("the JWKS publishes the ID token's kid, and after a rotation both the old and the new", () =>
  withProvider(async (p) => {
    const before = await obtainTokens(p);
    const oldKid = decodeProtectedHeader(before.id_token!).kid;
    assert.ok(oldKid);
    assert.ok((await jwks(p.t)).keys.some((k) => k.kid === oldKid));
    await jwtVerify(before.id_token!, createLocalJWKSet(await jwks(p.t)), { issuer: ISSUER });

    const { kid: newKid } = await p.t.services.oauth.keys.rotate();
    assert.notEqual(newKid, oldKid);
    const published = (await jwks(p.t)).keys.map((k) => k.kid);
    assert.ok(published.includes(oldKid) && published.includes(newKid), published.join(", "));
    passKeyTime(p.t, NEXT_KEY_DELAY_MS);
    const after = await obtainTokens(p);
    assert.equal(decodeProtectedHeader(after.id_token!).kid, newKid);
    const set = createLocalJWKSet(await jwks(p.t));
    await jwtVerify(before.id_token!, set, { issuer: ISSUER });
    await jwtVerify(after.id_token!, set, { issuer: ISSUER });
  }));

Deno.test("choosing ES256 publishes an ES256 key at once and makes it sign once cached key sets have expired", () =>
  withProvider(async (p) => {
    assert.equal(decodeProtectedHeader((await obtainTokens(p)).id_token!).alg, "RS256");
    await p.t.services.objects.update(
      "oidc-provider",
      "singleton",
      { signatureAlgorithm: "ES256" },
      "system",
    );
    assert.equal(decodeProtectedHeader((await obtainTokens(p)).id_token!).alg, "RS256");
    assert.ok((await jwks(p.t)).keys.some((k) => k.alg === "ES256"), "the ES256 key is published first");
    passKeyTime(p.t, NEXT_KEY_DELAY_MS);
    const tokens = await obtainTokens(p);
    const header = decodeProtectedHeader(tokens.id_token!);
    assert.equal(header.alg, "ES256");
    const { payload } = await jwtVerify(tokens.id_token!, createLocalJWKSet(await jwks(p.t)), {
      issuer: ISSUER,
      audience: p.client.clientId,
      algorithms: ["ES256"],
    });
    assert.equal(payload.sub, decodeJwt(tokens.id_token!).sub);
  }));

Deno.test("a second client cannot redeem another client's code", () =>
  withProvider(async (p) => {
    const other = await registerClient(p.t.services, { name: "Other application" });
    const request = authorizationRequest(p.client);
    const code = (await p.browser.authorize(request.url)).searchParams.get("code")!;
    const stolen = await redeemCode(p.t, other, code, request.verifier);
    assert.equal(stolen.body.error, "invalid_grant");
  }));

Deno.test("a token request whose redirect_uri differs from the authorization's is invalid_grant", () =>
  withProvider(async (p) => {
    // RFC 6749 §4.1.3: the loopback port may vary at authorization, but the token request must repeat it.
    const request = authorizationRequest(p.client, { redirect_uri: "http://127.0.0.1:53123/callback" });
    const code = (await p.browser.authorize(request.url)).searchParams.get("code")!;
    const answer = await redeemCode(p.t, p.client, code, request.verifier);
    assert.equal(answer.body.error, "invalid_grant");
  }));
