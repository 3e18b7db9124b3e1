/**
 * The client_credentials grant (RFC 6749 §4.4) in-process: a confidential client acts as its owner
 * account within its own scopes, so a scope beyond them is invalid_scope (§5.2); the admin scope only
 * while its owner is an administrator, and a token has its owner's current rights only, whatever scope
 * it holds.
 */
import assert from "node:assert/strict";
import { CORE, createUser, type Invocation, jmap, MAIL, MANAGEMENT } from "./jmap_helpers.ts";
import { registerClient, type TestClient } from "./oauth_helpers.ts";
import {
  bearerStatus,
  clientAuth,
  type JsonAnswer,
  postForm,
  withProvider,
} from "./oauth_security_helpers.ts";
import { basic, type TestApp } from "./helpers.ts";
import { InvalidInputError } from "../src/model/errors.ts";
import { encodeId } from "../src/model/ids.ts";

const SCOPES = ["urn:postern:admin", "urn:ietf:params:jmap:mail"];

/** A confidential client_credentials client owned by `ownerId`, allowed SCOPES. */
function machineClient(t: TestApp, ownerId: string): Promise<TestClient> {
  return registerClient(t.services, {
    name: "Machine client",
    ownerId,
    grantTypes: ["client_credentials"],
    scopes: SCOPES,
  });
}

/** A client_credentials token request, with `scope` when given. */
function clientCredentials(t: TestApp, client: TestClient, scope?: string): Promise<JsonAnswer> {
  return postForm(t, "/auth/token", {
    grant_type: "client_credentials",
    ...(scope === undefined ? {} : { scope }),
    ...clientAuth(client),
  });
}

Deno.test("client_credentials asking for a scope beyond the client's gets invalid_scope and no token", () =>
  withProvider(async ({ t }) => {
    const client = await machineClient(t, "b");
    for (const scope of ["urn:ietf:params:jmap:submission", "urn:postern:admin bogus", "openid"]) {
      const answer = await clientCredentials(t, client, scope);
      assert.equal(answer.status, 400, scope);
      assert.equal(answer.body.error, "invalid_scope", scope);
      assert.equal(answer.body.access_token, undefined);
    }
    const granted = await clientCredentials(t, client, "urn:ietf:params:jmap:mail");
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    assert.equal(granted.body.scope, "urn:ietf:params:jmap:mail");
    // A token without openid may not read UserInfo: 403 insufficient_scope, saying where to find out more.
    const userinfo = await t.fetch("/auth/userinfo", {
      headers: { authorization: `Bearer ${granted.body.access_token}` },
    });
    assert.equal(userinfo.status, 403);
    assert.equal((await userinfo.json()).error, "insufficient_scope");
    assert.match(
      userinfo.headers.get("www-authenticate") ?? "",
      /^Bearer realm="Postern", error="insufficient_scope", scope="openid", resource_metadata="http:\/\/[^"]+\/\.well-known\/oauth-protected-resource"$/,
    );
  }));

Deno.test("a client_credentials client has the admin scope only while its owner is an administrator; a token it got before loses the admin scope at once", () =>
  withProvider(async ({ t }) => {
    // A client's scopes never exceed what its owner may grant: no admin scope for a plain user's client.
    const carol = await createUser(t, "carol");
    await assert.rejects(
      machineClient(t, carol.id),
      (error: Error) => error instanceof InvalidInputError && /not an administrator/.test(error.message),
    );
    // An administrator's machine client gets it; then its owner stops being an administrator.
    const alice = await createUser(t, "alice", { roles: { "0": "admin" } });
    const client = await machineClient(t, alice.id);
    const answer = await clientCredentials(t, client);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.scope, SCOPES.join(" "));
    const [, demoted] = (await jmap(t, [["x:Account/set", {
      accountId: "b",
      update: { [alice.id]: { roles: { "0": "user" } } },
    }, "0"]])).methodResponses[0];
    assert.equal(demoted.notUpdated, null, JSON.stringify(demoted));
    // From now on the client gets no admin token, and by default the scopes it still may have.
    const refused = await clientCredentials(t, client, "urn:postern:admin");
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, "invalid_scope");
    const mailOnly = await clientCredentials(t, client);
    assert.equal(mailOnly.status, 200, JSON.stringify(mailOnly.body));
    assert.equal(mailOnly.body.scope, "urn:ietf:params:jmap:mail");
    // The token it got before loses the admin scope at once (not when it expires): no management call,
    // not even on alice's own account, while its mail scope still works.
    const auth = `Bearer ${answer.body.access_token}`;
    const one = async (call: Invocation, using = [CORE, MANAGEMENT]) =>
      (await jmap(t, [call], { auth, using })).methodResponses[0];
    const attempts: Invocation[] = [
      ["x:Account/get", { accountId: alice.id, ids: null }, "0"],
      ["x:Account/get", { accountId: alice.id, ids: ["b"] }, "0"],
      ["x:Account/set", { accountId: alice.id, update: { b: { description: "taken over" } } }, "0"],
      ["x:Domain/set", { accountId: alice.id, create: { d: { name: "evil.example" } } }, "0"],
      ["x:Account/set", {
        accountId: alice.id,
        create: { n: { "@type": "User", name: "eve", domainId: "b" } },
      }, "0"],
    ];
    for (const call of attempts) {
      const [name, result] = await one(call);
      assert.equal(name, "error", JSON.stringify(result));
      assert.equal(result.type, "forbidden", call[0]);
    }
    const [mailName] = await one(["Mailbox/get", { accountId: alice.id, ids: null }, "0"], [CORE, MAIL]);
    assert.equal(mailName, "Mailbox/get");
    // Refused methods are not authentication failures: the token itself stays good.
    assert.equal(await bearerStatus(t, answer.body.access_token as string, "/api/account"), 200);
  }));

Deno.test("client_credentials tokens share one family per client and scope set; revoking one revokes its family, and the next request starts a new one", () =>
  withProvider(async ({ t }) => {
    const alice = await createUser(t, "alice", { roles: { "0": "admin" } });
    const client = await machineClient(t, alice.id);
    const families = async () =>
      (await t.services.store.oauth.listGrants(undefined, Date.now()))
        .filter((g) => g.grantType === "client_credentials")
        .map((g) => ({ id: g.id, scopes: g.scopes.join(" "), expiresAt: g.expiresAt }));
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await clientCredentials(t, client);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      tokens.push(answer.body.access_token as string);
    }
    const mail = await clientCredentials(t, client, "urn:ietf:params:jmap:mail");
    const first = await families();
    assert.equal(first.length, 2, `one family per scope set, not per request: ${JSON.stringify(first)}`);
    const shared = first.find((f) => f.scopes === SCOPES.join(" "))!;
    // The family outlives the newest token it issued.
    assert.ok(shared.expiresAt >= Date.now() + Number(mail.body.expires_in) * 1000 - 2000);
    for (const token of tokens) assert.equal(await bearerStatus(t, token, "/api/account"), 200);

    // RFC 7009: revoking one token revokes its whole family, the others of that scope set with it.
    const revoked = await postForm(t, "/auth/revoke", { token: tokens[1], ...clientAuth(client) });
    assert.equal(revoked.status, 200);
    for (const token of tokens) assert.equal(await bearerStatus(t, token, "/api/account"), 401);
    assert.equal(await bearerStatus(t, mail.body.access_token as string, "/api/account"), 200);

    // The next request is not handed the revoked family again.
    const again = await clientCredentials(t, client);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(await bearerStatus(t, again.body.access_token as string, "/api/account"), 200);
    const after = await families();
    assert.equal(after.length, 2);
    assert.ok(!after.some((f) => f.id === shared.id), "the revoked family is gone and not reused");
  }));

Deno.test("a client's secret keeps being checked: a wrong one after right ones is 401 invalid_client, and a deleted client's is refused at once", () =>
  withProvider(async ({ t }) => {
    const alice = await createUser(t, "alice", { roles: { "0": "admin" } });
    const client = await machineClient(t, alice.id);
    const viaBasic = (secret: string) =>
      postForm(t, "/auth/token", { grant_type: "client_credentials" }, {
        authorization: basic(client.clientId, secret),
      });
    for (let i = 0; i < 2; i++) assert.equal((await viaBasic(client.secret!)).status, 200);
    // RFC 6749 §5.2: a failed client authentication with Basic is 401 with a Basic challenge.
    for (const wrong of ["wrong secret", client.secret!.slice(0, -1), `${client.secret}x`]) {
      const refused = await viaBasic(wrong);
      assert.equal(refused.status, 401, wrong);
      assert.equal(refused.body.error, "invalid_client");
      assert.match(refused.headers.get("www-authenticate") ?? "", /^Basic /);
    }
    const inForm = await postForm(t, "/auth/token", {
      grant_type: "client_credentials",
      client_id: client.clientId,
      client_secret: "wrong secret",
    });
    assert.equal(inForm.status, 401);
    assert.equal(inForm.body.error, "invalid_client");
    assert.equal((await viaBasic(client.secret!)).status, 200);

    const id = (await t.services.oauth.clients.byClientId(client.clientId))!.id;
    await t.services.objects.delete("oauth-client", encodeId(id), "system");
    const deleted = await viaBasic(client.secret!);
    assert.equal(deleted.status, 401);
    assert.equal(deleted.body.error, "invalid_client");
  }));
