import assert from "node:assert/strict";
import { DirectoryCaches, type VerifiedCredential } from "./directory_caches.ts";

/** Caches over an invalidation source that never has remote events. */
function caches(): DirectoryCaches {
  return new DirectoryCaches(
    { maxEntries: 100, ttlSeconds: 60, negativeTtlSeconds: 60, authTtlSeconds: 600 },
    { dataVersion: () => 1, since: () => ({ lastId: 0, events: [] }), lastId: () => 0 },
  );
}

const password = (accountId: number): VerifiedCredential => ({
  accountId,
  method: "password",
  credentialId: null,
  expiresAt: null,
});

const token = (accountId: number, grantId: number): VerifiedCredential => ({
  accountId,
  method: "accessToken",
  credentialId: grantId,
  expiresAt: null,
});

Deno.test("a verification that started before its account's credentials changed is not cached", () => {
  using c = disposable(caches());
  const started = c.credentialGeneration();
  c.apply({ kind: "credentials", accountId: 7 });
  assert.equal(c.cacheVerified("header-7", password(7), started), false);
  assert.equal(c.authHeaders.get("header-7").status, "miss");
  // Another account's change does not concern it; one started after the change is cached.
  assert.equal(c.cacheVerified("header-8", password(8), started), true);
  assert.equal(c.cacheVerified("header-7", password(7), c.credentialGeneration()), true);
  assert.equal(c.authHeaders.get("header-7").status, "hit");
});

Deno.test("a token verification is not cached after its family was revoked or every token was", () => {
  using c = disposable(caches());
  const started = c.credentialGeneration();
  c.apply({ kind: "oauthGrant", grantId: 3, accountId: 7 });
  assert.equal(c.cacheVerified("t3", token(7, 3), started), false);
  assert.equal(c.cacheVerified("t4", token(7, 4), started), true);
  const later = c.credentialGeneration();
  c.apply({ kind: "settings", name: "OidcProvider" });
  assert.equal(c.cacheVerified("t5", token(9, 5), later), false);
  c.apply({ kind: "all" });
  assert.equal(c.cacheVerified("p9", password(9), later), false);
});

function disposable(c: DirectoryCaches): DirectoryCaches & Disposable {
  return Object.assign(c, { [Symbol.dispose]: () => c.close() });
}
