/**
 * The opened-token and token-family caches store a refresh token and its family on their second use
 * (src/cache/second_sight.ts): a fresh token per request is opened once and leaves nothing behind,
 * a token in use is served from the caches from its second use on, and a revocation refuses it at
 * once in every process either way.
 */
import assert from "node:assert/strict";
import { OAuthError } from "../src/oauth/errors.ts";
import { closePair, pairClient, pairTokens, type ServicesPair, servicesPair } from "./services_pair.ts";

/** Counts the family reads of `p`'s process B (store.oauth.grant). */
function countGrantReads(p: ServicesPair): { reads: number } {
  const counter = { reads: 0 };
  const store = p.b.store.oauth;
  const original = store.grant.bind(store);
  store.grant = (id: number) => {
    counter.reads++;
    return original(id);
  };
  return counter;
}

Deno.test("a refresh token's family is read from the database on its first two uses, then cached; a revocation in another process refuses it at once", async () => {
  const p = await servicesPair("postern-second-sight-");
  try {
    const [clientA, clientB] = await pairClient(p, "confidential", "sight-client");
    const tokens = await pairTokens(p, clientA);
    const counter = countGrantReads(p);
    const refresh = () =>
      p.b.oauth.tokens.refreshGrant(clientB, tokens.refresh_token!, { issuer: "http://127.0.0.1" });
    for (let use = 1; use <= 4; use++) {
      const answer = await refresh();
      // A confidential client's token is kept (far from the end of its life): the same one each time.
      assert.equal(answer.refresh_token, tokens.refresh_token);
      assert.equal(counter.reads, Math.min(use, 2), `reads after use ${use}`);
    }
    await p.a.oauth.tokens.revoke(clientA, tokens.refresh_token!);
    await p.b.sync();
    await assert.rejects(refresh(), (error) => error instanceof OAuthError && error.code === "invalid_grant");
  } finally {
    await closePair(p);
  }
});

Deno.test("fresh refresh tokens used once each are all read from the database, and each is still refused once revoked", async () => {
  const p = await servicesPair("postern-second-sight-");
  try {
    const [clientA, clientB] = await pairClient(p, "confidential", "sight-client");
    const fresh = [];
    for (let i = 0; i < 5; i++) fresh.push(await pairTokens(p, clientA));
    const counter = countGrantReads(p);
    for (const tokens of fresh) {
      await p.b.oauth.tokens.refreshGrant(clientB, tokens.refresh_token!, { issuer: "http://127.0.0.1" });
    }
    assert.equal(counter.reads, 5);
    // Seen once each: a revocation of any of them, then its second use, is refused.
    await p.a.oauth.tokens.revoke(clientA, fresh[2].refresh_token!);
    await p.b.sync();
    await assert.rejects(
      p.b.oauth.tokens.refreshGrant(clientB, fresh[2].refresh_token!, { issuer: "http://127.0.0.1" }),
      (error) => error instanceof OAuthError && error.code === "invalid_grant",
    );
    const kept = await p.b.oauth.tokens.refreshGrant(clientB, fresh[3].refresh_token!, {
      issuer: "http://127.0.0.1",
    });
    assert.equal(kept.refresh_token, fresh[3].refresh_token);
  } finally {
    await closePair(p);
  }
});
