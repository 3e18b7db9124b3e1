/**
 * Two processes' worth of services on one database file: a token family that one of them revoked or
 * rotated is seen so by the other at its next request (the invalidation log), although each keeps the
 * families it has read in memory.
 */
import assert from "node:assert/strict";
import type { OAuthClient } from "../src/model/oauth.ts";
import type { Services } from "../src/services.ts";
import { closePair, pairClient, pairTokens, servicesPair } from "./services_pair.ts";

const pair = () => servicesPair("postern-token-coherence-");
const cleanup = closePair;

const refresh = (services: Services, client: OAuthClient, token: string) =>
  services.oauth.tokens.refreshGrant(client, token, { issuer: "http://127.0.0.1" });

Deno.test("a family revoked in one process stops refreshing in the other, which had it in memory", async () => {
  const p = await pair();
  try {
    const [clientA, clientB] = await pairClient(p, "confidential");
    const tokens = await pairTokens(p, clientA);
    await p.b.sync();
    for (let i = 0; i < 3; i++) {
      assert.equal((await refresh(p.b, clientB, tokens.refresh_token!)).refresh_token, tokens.refresh_token);
    }

    await p.a.oauth.tokens.revoke(clientA, tokens.refresh_token!);
    await p.b.sync();
    await assert.rejects(refresh(p.b, clientB, tokens.refresh_token!), { code: "invalid_grant" });
    assert.equal(await p.b.oauth.tokens.verifyAccess(tokens.access_token), undefined);
  } finally {
    await cleanup(p);
  }
});

Deno.test("a public client's token rotated in one process is a reuse in the other, which revokes the family", async () => {
  const p = await pair();
  try {
    await p.a.objects.update("oidc-provider", "singleton", { refreshTokenReuseGrace: 0 }, "system");
    const [clientA, clientB] = await pairClient(p, "public");
    const tokens = await pairTokens(p, clientA);
    // The other process reads the family (generation 1) and keeps it.
    await p.b.sync();
    assert.ok(await p.b.oauth.tokens.verifyAccess(tokens.access_token));

    const rotated = await refresh(p.a, clientA, tokens.refresh_token!);
    assert.notEqual(rotated.refresh_token, tokens.refresh_token);

    // The first token again, to the other process, past the (zero) grace window: spent, not current.
    await p.b.sync();
    await assert.rejects(refresh(p.b, clientB, tokens.refresh_token!), { code: "invalid_grant" });
    await p.a.sync();
    await assert.rejects(refresh(p.a, clientA, rotated.refresh_token!), { code: "invalid_grant" });
  } finally {
    await cleanup(p);
  }
});

Deno.test("a password changed in one process stops the other's refreshes of that account", async () => {
  const p = await pair();
  try {
    const [clientA, clientB] = await pairClient(p, "confidential");
    const tokens = await pairTokens(p, clientA);
    await p.b.sync();
    await refresh(p.b, clientB, tokens.refresh_token!);

    await p.a.accounts.update(p.accountId, { password: "another strong passphrase" });
    await p.b.sync();
    await assert.rejects(refresh(p.b, clientB, tokens.refresh_token!), { code: "invalid_grant" });
  } finally {
    await cleanup(p);
  }
});

Deno.test("a client_credentials family revoked in one process is not reused by the other, which held it as live", async () => {
  const p = await pair();
  try {
    const [clientA, clientB] = await pairClient(p, "confidential");
    const machineToken = (services: Services, client: OAuthClient) =>
      services.oauth.tokens.issue({
        client,
        accountId: p.accountId,
        grantType: "client_credentials",
        scopes: ["urn:ietf:params:jmap:mail"],
        authTime: Date.now(),
        issuer: "http://127.0.0.1",
        withRefresh: false,
      });
    const first = (await machineToken(p.b, clientB)).grant;
    const { tokens, grant } = await machineToken(p.b, clientB);
    assert.equal(grant.id, first.id, "one family per client and scope set");
    assert.ok(await p.b.oauth.tokens.verifyAccess(tokens.access_token));

    await p.a.oauth.tokens.revoke(clientA, tokens.access_token);
    await p.b.sync();
    assert.equal(await p.b.oauth.tokens.verifyAccess(tokens.access_token), undefined, "revoked at once");
    const next = (await machineToken(p.b, clientB)).grant;
    assert.notEqual(next.id, first.id, "the revoked family is not handed out again");
    assert.ok(await p.b.store.oauth.grant(next.id));
  } finally {
    await cleanup(p);
  }
});
