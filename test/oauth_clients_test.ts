/**
 * The provider as certified client libraries see it: openid-client and oauth4webapi drive a real
 * server process over http, and validate discovery, authorization responses (RFC 9207 `iss`), ID tokens
 * (signature through the JWKS, iss, aud, nonce, at_hash) and every grant themselves.
 */
import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import * as client from "openid-client";
import { ADMIN, registerClientWithCli, TestBrowser } from "./oauth_helpers.ts";
import {
  adminId,
  answerDeviceCode,
  assertAtHash,
  assertInvalidToken,
  discover,
  oauthError,
  signIn,
  updateProvider,
  USER_CODE,
  withBearer,
  withServer,
} from "./oauth_clients_helpers.ts";

const insecure = { [oauth.allowInsecureRequests]: true } as const;

Deno.test("openid-client and oauth4webapi both discover the provider's endpoints and PKCE S256 only", () =>
  withServer(async (server) => {
    const registered = await registerClientWithCli(server.dataDir);
    const metadata = (await discover(server, registered)).serverMetadata();
    assert.equal(metadata.issuer, server.url);
    assert.equal(metadata.authorization_endpoint, `${server.url}/auth/authorize`);
    assert.equal(metadata.token_endpoint, `${server.url}/auth/token`);
    assert.equal(metadata.userinfo_endpoint, `${server.url}/auth/userinfo`);
    assert.equal(metadata.jwks_uri, `${server.url}/auth/jwks.json`);
    assert.equal(metadata.introspection_endpoint, `${server.url}/auth/introspect`);
    assert.equal(metadata.revocation_endpoint, `${server.url}/auth/revoke`);
    assert.equal(metadata.device_authorization_endpoint, `${server.url}/auth/device`);
    assert.deepEqual(metadata.code_challenge_methods_supported, ["S256"]);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    const issuer = new URL(server.url);
    for (const algorithm of ["oidc", "oauth2"] as const) {
      const response = await oauth.discoveryRequest(issuer, { algorithm, ...insecure });
      const as = await oauth.processDiscoveryResponse(issuer, response);
      assert.deepEqual(as, metadata, `oauth4webapi (${algorithm}) reads the same document`);
    }
  }));

Deno.test("openid-client signs in with a code and PKCE, validates the ID token and reads userinfo", () =>
  withServer(async (server) => {
    const registered = await registerClientWithCli(server.dataDir);
    const config = await discover(server, registered);
    const before = Math.floor(Date.now() / 1000);
    const browser = new TestBrowser(server.url);
    const { tokens, nonce } = await signIn(config, registered, { scope: "openid email", browser });
    const claims = tokens.claims()!;
    assert.equal(claims.sub, await adminId(server));
    assert.equal(claims.aud, registered.clientId);
    assert.equal(claims.nonce, nonce);
    assert.ok(typeof claims.auth_time === "number" && claims.auth_time >= before - 1, "auth_time");
    assert.equal(claims.email, ADMIN.username);
    assert.equal(claims.email_verified, true);
    assert.equal(await assertAtHash(tokens.id_token!, tokens.access_token), "RS256");
    assert.equal(tokens.token_type.toLowerCase(), "bearer");
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.email, ADMIN.username);
    assert.equal(info.preferred_username, undefined, "no profile claims without the profile scope");
  }));

Deno.test("oauth4webapi runs a public client's code flow and checks the iss response parameter", () =>
  withServer(async (server) => {
    const registered = await registerClientWithCli(server.dataDir, { type: "Public" });
    const issuer = new URL(server.url);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
    const c: oauth.Client = { client_id: registered.clientId, token_endpoint_auth_method: "none" };
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: c.client_id,
      redirect_uri: registered.redirectUri,
      response_type: "code",
      scope: "openid profile",
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
    }).toString();
    const callback = await new TestBrowser(server.url).authorize(url.href);
    const forged = new URL(callback);
    forged.searchParams.set("iss", "http://127.0.0.1:1");
    assert.throws(() => oauth.validateAuthResponse(as, c, forged, state), /unexpected "iss"/);
    forged.searchParams.delete("iss");
    assert.throws(() => oauth.validateAuthResponse(as, c, forged, state), /"iss" \(issuer\) missing/);
    const params = oauth.validateAuthResponse(as, c, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      c,
      oauth.None(),
      params,
      registered.redirectUri,
      verifier,
      insecure,
    );
    const result = await oauth.processAuthorizationCodeResponse(as, c, response, {
      expectedNonce: nonce,
      requireIdToken: true,
    });
    const claims = oauth.getValidatedIdTokenClaims(result)!;
    assert.equal(claims.sub, await adminId(server));
    assert.equal(claims.aud, registered.clientId);
    assert.equal(claims.nonce, nonce);
    assert.equal(claims.preferred_username, ADMIN.username);
    const userinfo = await oauth.userInfoRequest(as, c, result.access_token, insecure);
    const info = await oauth.processUserInfoResponse(as, c, claims.sub, userinfo);
    assert.equal(info.preferred_username, ADMIN.username);
  }));

Deno.test("ID tokens signed with ES256 or EdDSA pass openid-client's checks and carry a matching at_hash", async () => {
  for (const algorithm of ["ES256", "EdDSA"]) {
    await withServer(async (server) => {
      const registered = await registerClientWithCli(server.dataDir);
      const config = await discover(server, registered);
      assert.deepEqual(config.serverMetadata().id_token_signing_alg_values_supported, [algorithm, "RS256"]);
      const browser = new TestBrowser(server.url);
      const { tokens, nonce } = await signIn(config, registered, { scope: "openid", browser });
      assert.equal(tokens.claims()!.nonce, nonce);
      assert.equal(await assertAtHash(tokens.id_token!, tokens.access_token), algorithm);
    }, { provider: { signatureAlgorithm: algorithm } });
  }
});

Deno.test("an OidcProvider change made with the CLI is seen by the server's very next request", () =>
  withServer(async (server) => {
    await updateProvider(server, ["--field", "signatureAlgorithm=ES256"]);
    const response = await fetch(`${server.url}/.well-known/openid-configuration`);
    const metadata = await response.json();
    assert.deepEqual(metadata.id_token_signing_alg_values_supported, ["ES256", "RS256"]);
  }));

Deno.test("a public client's refresh token rotates on every use; a confidential one's stays far from expiry", () =>
  withServer(async (server) => {
    const publicClient = await registerClientWithCli(server.dataDir, {
      name: "Public application",
      type: "Public",
    });
    const confidential = await registerClientWithCli(server.dataDir);
    const browser = new TestBrowser(server.url);
    const scope = "openid offline_access";

    const publicConfig = await discover(server, publicClient);
    const { tokens } = await signIn(publicConfig, publicClient, { scope, browser });
    const first = tokens.refresh_token!;
    assert.ok(first, "a refresh token with offline_access");
    const refreshed = await client.refreshTokenGrant(publicConfig, first);
    const second = refreshed.refresh_token!;
    // OIDC Core §12.2: the new ID token keeps the subject and the time of the original sign-in.
    assert.equal(refreshed.claims()!.sub, tokens.claims()!.sub);
    assert.equal(refreshed.claims()!.auth_time, tokens.claims()!.auth_time);
    const third = (await client.refreshTokenGrant(publicConfig, second)).refresh_token!;
    assert.equal(new Set([first, second, third]).size, 3, "a new refresh token on every use");
    await assert.rejects(client.refreshTokenGrant(publicConfig, second), oauthError("invalid_grant"));

    const config = await discover(server, confidential);
    const kept = (await signIn(config, confidential, { scope, browser })).tokens.refresh_token!;
    for (let use = 0; use < 2; use++) {
      const refreshed = await client.refreshTokenGrant(config, kept);
      assert.equal(refreshed.refresh_token, kept, `use ${use + 1} keeps the refresh token`);
      assert.ok(refreshed.claims(), "a new ID token on refresh");
    }
  }, { provider: { refreshTokenReuseGrace: "0" } }));

Deno.test("presenting a rotated refresh token again revokes every token of its family", () =>
  withServer(async (server) => {
    const registered = await registerClientWithCli(server.dataDir, { type: "Public" });
    const config = await discover(server, registered);
    const browser = new TestBrowser(server.url);
    const { tokens } = await signIn(config, registered, { scope: "openid offline_access", browser });
    const rotated = await client.refreshTokenGrant(config, tokens.refresh_token!);
    const sub = rotated.claims()!.sub;
    for (const token of [tokens.access_token, rotated.access_token]) {
      assert.equal((await client.fetchUserInfo(config, token, sub)).sub, sub);
    }

    await assert.rejects(
      client.refreshTokenGrant(config, tokens.refresh_token!),
      oauthError("invalid_grant"),
    );
    await assert.rejects(
      client.refreshTokenGrant(config, rotated.refresh_token!),
      oauthError("invalid_grant"),
    );
    for (const [what, token] of [["first", tokens.access_token], ["rotated", rotated.access_token]]) {
      assertInvalidToken(await withBearer(server, "/auth/userinfo", { token }), `${what} access token`);
    }
  }, { provider: { refreshTokenReuseGrace: "0" } }));

Deno.test("within the reuse grace window a rotated refresh token gets the same successor again", () =>
  withServer(async (server) => {
    const registered = await registerClientWithCli(server.dataDir, { type: "Public" });
    const config = await discover(server, registered);
    const browser = new TestBrowser(server.url);
    const { tokens } = await signIn(config, registered, { scope: "openid offline_access", browser });
    const first = await client.refreshTokenGrant(config, tokens.refresh_token!);
    const retry = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.equal(retry.refresh_token, first.refresh_token);
    const sub = retry.claims()!.sub;
    assert.equal((await client.fetchUserInfo(config, retry.access_token, sub)).sub, sub);
    const next = await client.refreshTokenGrant(config, first.refresh_token!);
    assert.notEqual(next.refresh_token, first.refresh_token, "the successor itself rotates as usual");
  }, { provider: { refreshTokenReuseGrace: "30s" } }));

Deno.test("revoking a refresh token (RFC 7009) stops its family's access token on the next request", () =>
  withServer(async (server) => {
    const registered = await registerClientWithCli(server.dataDir);
    const config = await discover(server, registered);
    const browser = new TestBrowser(server.url);
    const { tokens } = await signIn(config, registered, { scope: "openid offline_access", browser });
    assert.equal((await withBearer(server, "/auth/userinfo", { token: tokens.access_token })).status, 200);

    await client.tokenRevocation(config, tokens.refresh_token!, { token_type_hint: "refresh_token" });
    assertInvalidToken(
      await withBearer(server, "/auth/userinfo", { token: tokens.access_token }),
      "access token after revocation",
    );
    await assert.rejects(
      client.refreshTokenGrant(config, tokens.refresh_token!),
      oauthError("invalid_grant"),
    );
  }));

Deno.test("introspection (RFC 7662) describes an active token, and says inactive for revoked or garbage", () =>
  withServer(async (server) => {
    const registered = await registerClientWithCli(server.dataDir);
    const config = await discover(server, registered);
    const browser = new TestBrowser(server.url);
    const scope = "openid email offline_access";
    const { tokens } = await signIn(config, registered, { scope, browser });

    const active = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.sub, await adminId(server));
    assert.equal(active.scope, scope);
    assert.equal(active.client_id, registered.clientId);
    assert.equal(active.token_type, "Bearer");
    assert.equal(active.username, ADMIN.username);
    const now = Date.now() / 1000;
    assert.ok(active.iat! <= now + 1 && active.exp! > now, `iat ${active.iat}, exp ${active.exp}`);
    const refresh = await client.tokenIntrospection(config, tokens.refresh_token!);
    assert.equal(refresh.active, true);

    await client.tokenRevocation(config, tokens.refresh_token!);
    for (const token of [tokens.access_token, tokens.refresh_token!, "not-a-token-at-all"]) {
      assert.deepEqual({ ...(await client.tokenIntrospection(config, token)) }, { active: false });
    }
  }));

Deno.test("device flow (RFC 8628): the user approves on the device page while openid-client polls", () =>
  withServer(async (server) => {
    const registered = await registerClientWithCli(server.dataDir);
    const config = await discover(server, registered);
    const grant = await client.initiateDeviceAuthorization(config, { scope: "openid email" });
    assert.match(grant.user_code, USER_CODE);
    assert.equal(grant.verification_uri, `${server.url}/auth/device`);
    assert.equal(grant.verification_uri_complete, `${grant.verification_uri}?user_code=${grant.user_code}`);
    const polling = client.pollDeviceAuthorizationGrant(config, grant);
    const browser = new TestBrowser(server.url);
    const done = await answerDeviceCode(browser, grant.verification_uri_complete!, "approve");
    assert.match(done, /Device connected/);
    const tokens = await polling;
    const claims = tokens.claims()!;
    assert.equal(claims.aud, registered.clientId);
    assert.equal(claims.email, ADMIN.username);
    assert.equal((await client.fetchUserInfo(config, tokens.access_token, claims.sub)).sub, claims.sub);
  }, { provider: { deviceCodeInterval: "1s" } }));

Deno.test("a denied device authorization ends openid-client's polling with access_denied", () =>
  withServer(async (server) => {
    const registered = await registerClientWithCli(server.dataDir);
    const config = await discover(server, registered);
    const grant = await client.initiateDeviceAuthorization(config, { scope: "openid" });
    assert.match(grant.user_code, USER_CODE);
    // Caught at once, so the rejection is never unhandled while the user answers.
    const polling = client.pollDeviceAuthorizationGrant(config, grant).then(
      () => assert.fail("polling got tokens for a denied device"),
      (error: unknown) => error,
    );
    const browser = new TestBrowser(server.url);
    const done = await answerDeviceCode(browser, grant.verification_uri_complete!, "deny");
    assert.match(done, /Access denied/);
    assert.ok(oauthError("access_denied")(await polling));
  }, { provider: { deviceCodeInterval: "1s" } }));

Deno.test("client_credentials gives an owner's token that the management API and JMAP accept", () =>
  withServer(async (server) => {
    const registered = await registerClientWithCli(server.dataDir, {
      ownerId: "b",
      grantTypes: ["client_credentials"],
      scopes: ["urn:postern:admin", "urn:ietf:params:jmap:mail"],
    });
    const config = await discover(server, registered, client.ClientSecretBasic(registered.secret));
    const tokens = await client.clientCredentialsGrant(config, {
      scope: "urn:postern:admin urn:ietf:params:jmap:mail",
    });
    assert.equal(tokens.refresh_token, undefined);
    assert.equal(tokens.id_token, undefined);
    const token = tokens.access_token;

    const account = await withBearer(server, "/api/account", { token });
    assert.equal(account.status, 200, account.body);
    const owner = JSON.parse(account.body);
    assert.equal(owner.emailAddress, ADMIN.username);
    assert.equal(owner.authenticatedBy, "accessToken");
    // RFC 8620 §5.1: /get names its account; the owner's id is the one /api/account gave.
    const call = ["x:Account/get", { accountId: owner.id, ids: null }, "0"];
    const jmap = await withBearer(server, "/jmap", {
      token,
      json: { using: ["urn:ietf:params:jmap:core"], methodCalls: [call] },
    });
    assert.equal(jmap.status, 200, jmap.body);
    const [[name, result]] = JSON.parse(jmap.body).methodResponses;
    assert.equal(name, "x:Account/get", JSON.stringify(result));
    assert.ok(result.list.some((a: { id: string }) => a.id === owner.id), JSON.stringify(result));
  }));

Deno.test("one access token works on every protected endpoint; a garbage one gets only a Bearer challenge", () =>
  withServer(async (server) => {
    const registered = await registerClientWithCli(server.dataDir);
    const config = await discover(server, registered);
    const browser = new TestBrowser(server.url);
    const scope = "openid profile email urn:ietf:params:jmap:mail";
    const { tokens } = await signIn(config, registered, { scope, browser });
    const paths = ["/auth/userinfo", "/api/account", "/api/schema", "/jmap/session"];
    for (const path of paths) {
      const response = await withBearer(server, path, { token: tokens.access_token });
      assert.equal(response.status, 200, `${path}: ${response.body.slice(0, 200)}`);
    }
    for (const path of paths) {
      assertInvalidToken(await withBearer(server, path, { token: "garbage-token-1234" }), path);
    }
  }));
