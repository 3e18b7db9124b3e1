/**
 * RFC 9728 protected-resource metadata, as oauth4webapi discovers it: the document at
 * /.well-known/oauth-protected-resource (§2, §3) and the `resource_metadata` parameter of the Bearer
 * challenges that point a client without a usable token to it (§5.1).
 */
import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import type { TestApp } from "./helpers.ts";
import { inProcessFetch } from "./oauth_helpers.ts";
import { ISSUER, obtainTokens, withProvider } from "./oauth_security_helpers.ts";

const METADATA_URL = `${ISSUER}/.well-known/oauth-protected-resource`;
/** oauth4webapi's options for the in-process app over http. */
function options(t: TestApp) {
  const fetcher = inProcessFetch(t);
  return {
    [oauth.customFetch]: (url: string, init: object) => fetcher(url, init as RequestInit),
    [oauth.allowInsecureRequests]: true,
  };
}

Deno.test("the protected-resource metadata names this server as resource and authorization server, as RFC 9728 asks", () =>
  withProvider(async ({ t }) => {
    const response = await t.fetch("/.well-known/oauth-protected-resource");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    const metadata = await response.json();
    // §3.3: `resource` is the identifier the well-known URL was made from, byte for byte.
    assert.equal(metadata.resource, ISSUER);
    assert.deepEqual(metadata.authorization_servers, [ISSUER]);
    assert.deepEqual(metadata.bearer_methods_supported, ["header"]);
    for (
      const scope of ["urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission", "urn:postern:admin"]
    ) {
      assert.ok(metadata.scopes_supported.includes(scope), scope);
    }
    assert.equal(typeof metadata.resource_name, "string");
    assert.ok(new URL(metadata.resource_documentation).href.startsWith(ISSUER));

    // A certified client library's own checks (§3.3 identity, member types) accept the document…
    const resource = new URL(ISSUER);
    const discovered = await oauth.processResourceDiscoveryResponse(
      resource,
      await oauth.resourceDiscoveryRequest(resource, options(t)),
    );
    assert.deepEqual({ ...discovered }, metadata);
    // …and the authorization server it names publishes its RFC 8414 metadata with that issuer.
    const issuer = new URL(discovered.authorization_servers![0]);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...options(t) }),
    );
    assert.equal(as.issuer, ISSUER);
  }));

Deno.test("a request without a usable token gets a Bearer challenge naming the resource metadata (RFC 9728 §5.1)", () =>
  withProvider(async (p) => {
    const challenge = async (path: string, token: string) => {
      const error = await oauth.protectedResourceRequest(
        token,
        "GET",
        new URL(`${ISSUER}${path}`),
        new Headers(),
        null,
        options(p.t),
      )
        .then(() => assert.fail(`${path} accepted ${token}`), (error: unknown) => error);
      assert.ok(error instanceof oauth.WWWAuthenticateChallengeError, String(error));
      assert.equal(error.status, 401);
      const bearer = error.cause.find((c) => c.scheme === "bearer");
      assert.ok(bearer, `${path}: no Bearer challenge`);
      assert.equal(bearer.parameters.resource_metadata, METADATA_URL, path);
      return bearer.parameters;
    };
    for (const path of ["/jmap/session", "/api/account", "/auth/userinfo"]) {
      assert.equal((await challenge(path, "garbage-token-1234")).error, "invalid_token");
    }
    // No credentials at all: the challenge offers Basic and Bearer, Bearer with the metadata.
    const bare = await p.t.fetch("/jmap/session");
    await bare.body?.cancel();
    assert.equal(bare.status, 401);
    assert.match(
      bare.headers.get("www-authenticate") ?? "",
      new RegExp(`Bearer [^]*resource_metadata="${METADATA_URL}"`),
    );
    // A valid token is not challenged.
    const tokens = await obtainTokens(p, { scope: "openid urn:ietf:params:jmap:mail" });
    const ok = await oauth.protectedResourceRequest(
      tokens.access_token,
      "GET",
      new URL(`${ISSUER}/jmap/session`),
      new Headers(),
      null,
      options(p.t),
    );
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  }));
