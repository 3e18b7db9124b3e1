/**
 * Cache fills raced against the invalidation of what they read, deterministically, with two
 * processes' worth of services on one database file: process B reads a row, is held between its read
 * and storing the answer (a hook on its repository), process A writes and commits, B applies A's
 * invalidation (as its next request would), and only then does B's fill finish. The stale answer must
 * not be cached: each case checks what B answers next. Covered: the account by id (disabled), the
 * login (created after a negative answer), the verified Authorization header (password changed),
 * OAuth token families (revoked), opened tokens (the account renamed, so the key material moved) —
 * both cached on their second sight (src/cache/second_sight.ts), so each races that second read —
 * OAuth clients (deleted) and a client secret verified with a client read before its secret changed.
 */
import assert from "node:assert/strict";
import { keyedHasher } from "../src/auth/keyed_hash.ts";
import { encodeId } from "../src/model/ids.ts";
import { AuthError } from "../src/model/errors.ts";
import { basic, PASSWORD } from "./helpers.ts";
import { closePair, pairClient, pairTokens, type ServicesPair, servicesPair } from "./services_pair.ts";

type Pair = ServicesPair;

async function withPair(body: (p: Pair) => Promise<void>): Promise<void> {
  const p = await servicesPair("postern-fill-race-");
  try {
    await body(p);
  } finally {
    await closePair(p);
  }
}

/**
 * Holds the next call of `target[method]` after it has read, until `release`: `read` resolves once
 * the read is done. Later calls go through untouched.
 */
function holdAfterRead<T extends object, M extends keyof T>(target: T, method: M) {
  const original = target[method] as (...args: unknown[]) => Promise<unknown>;
  let reached!: () => void;
  let release!: () => void;
  const read = new Promise<void>((resolve) => reached = resolve);
  const released = new Promise<void>((resolve) => release = resolve);
  (target as Record<M, unknown>)[method] = async (...args: unknown[]) => {
    (target as Record<M, unknown>)[method] = original;
    const result = await original.apply(target, args);
    reached();
    await released;
    return result;
  };
  return { read, release };
}

Deno.test("an account read before it was disabled elsewhere is not cached after the invalidation", () =>
  withPair(async (p) => {
    const hold = holdAfterRead(p.b.store.accounts, "get");
    const filling = p.b.accounts.get(p.accountId);
    await hold.read;
    await p.a.accounts.update(p.accountId, { enabled: false });
    await p.b.sync();
    hold.release();
    // The request under way answers what it read; the next one must not.
    assert.equal((await filling)?.enabled, true);
    assert.equal((await p.b.accounts.get(p.accountId))?.enabled, false);
  }));

Deno.test("a login read as unknown before it was created elsewhere is not remembered as unknown", () =>
  withPair(async (p) => {
    const hold = holdAfterRead(p.b.store.accounts, "idByAddress");
    const filling = p.b.accounts.idByLogin("late@example.org");
    await hold.read;
    const late = await p.a.accounts.create({
      type: "User",
      name: "late",
      domainId: p.domainId,
      password: PASSWORD,
    });
    await p.b.sync();
    hold.release();
    assert.equal(await filling, undefined);
    assert.equal(await p.b.accounts.idByLogin("late@example.org"), late.id);
  }));

Deno.test("a password verified before it was changed elsewhere does not stay a verified header", () =>
  withPair(async (p) => {
    const authorization = basic("u@example.org", PASSWORD);
    const hold = holdAfterRead(p.b.store.credentials, "listByAccount");
    const filling = p.b.authenticator.authenticate(authorization, "192.0.2.1");
    await hold.read;
    await p.a.accounts.update(p.accountId, { password: `${PASSWORD} changed` });
    await p.b.sync();
    hold.release();
    assert.equal((await filling).accountId, p.accountId);
    await assert.rejects(p.b.authenticator.authenticate(authorization, "192.0.2.1"), AuthError);
  }));

Deno.test("a token family read before it was revoked elsewhere is not cached after the revocation", () =>
  withPair(async (p) => {
    const [clientA] = await pairClient(p, "confidential", "race-client");
    const tokens = await pairTokens(p, clientA);
    // Families are cached on their second read: this first check is the sighting, the race is the fill.
    assert.ok(await p.b.oauth.tokens.verifyAccess(tokens.access_token));
    const hold = holdAfterRead(p.b.store.oauth, "grant");
    const filling = p.b.oauth.tokens.verifyAccess(tokens.access_token);
    await hold.read;
    await p.a.oauth.tokens.revoke(clientA, tokens.refresh_token!);
    await p.b.sync();
    hold.release();
    assert.ok(await filling);
    assert.equal(await p.b.oauth.tokens.verifyAccess(tokens.access_token), undefined);
  }));

Deno.test("a token opened with an account read before its rename elsewhere is not cached after it", () =>
  withPair(async (p) => {
    const [clientA] = await pairClient(p, "confidential", "race-client");
    const tokens = await pairTokens(p, clientA);
    // Token keys are derived from the account's name, and a rename keeps its token families: only
    // the opened-token cache stands between a renamed account and its old tokens. Tokens are cached
    // when opened a second time: this first check is the sighting, the race below is the fill.
    assert.ok(await p.b.oauth.tokens.verifyAccess(tokens.access_token));
    p.b.caches.accountById.delete(p.accountId);
    const hold = holdAfterRead(p.b.store.accounts, "get");
    const filling = p.b.oauth.tokens.verifyAccess(tokens.access_token);
    await hold.read;
    await p.a.accounts.update(p.accountId, { name: "renamed" });
    await p.b.sync();
    hold.release();
    assert.ok(await filling);
    assert.equal(await p.b.oauth.tokens.verifyAccess(tokens.access_token), undefined);
  }));

Deno.test("an OAuth client read before it was deleted elsewhere is not cached after the deletion", () =>
  withPair(async (p) => {
    const [clientA, clientB] = await pairClient(p, "confidential", "race-client");
    p.b.oauth.clients.forget(clientB.id);
    const hold = holdAfterRead(p.b.store.oauth, "client");
    const filling = p.b.oauth.clients.byId(clientB.id);
    await hold.read;
    await p.a.objects.delete("oauth-client", encodeId(clientA.id), "system");
    await p.b.sync();
    hold.release();
    assert.equal((await filling)?.clientId, "race-client");
    assert.equal(await p.b.oauth.clients.byId(clientB.id), undefined);
  }));

Deno.test("a client secret verified with a client read before its secret was replaced elsewhere is not remembered", () =>
  withPair(async (p) => {
    const [clientA, clientB] = await pairClient(p, "confidential", "race-secret");
    const oldSecret = "the old secret of race-secret, long enough";
    const newSecret = "the new secret of race-secret, long enough";
    const key = Uint8Array.fromBase64(await p.a.keyedSecrets.key());
    const hash = await keyedHasher(key);
    await p.a.keyedSecrets.setHash("client", clientA.id, hash(oldSecret));
    await p.b.sync();
    const authenticate = (secret: string) =>
      p.b.oauth.authenticateClient({ basic: { clientId: "race-secret", secret } });
    assert.equal((await authenticate(oldSecret)).id, clientB.id);

    p.b.oauth.clients.forget(clientB.id);
    const hold = holdAfterRead(p.b.store.oauth, "clientByClientId");
    const filling = authenticate(oldSecret);
    await hold.read;
    await p.a.keyedSecrets.setHash("client", clientA.id, hash(newSecret));
    await p.b.sync();
    hold.release();
    assert.equal((await filling).id, clientB.id, "the request under way read the old secret's client");
    await assert.rejects(authenticate(oldSecret), { code: "invalid_client" });
    assert.equal((await authenticate(newSecret)).id, clientB.id);
  }));
