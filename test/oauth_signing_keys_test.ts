/**
 * Signing-key pre-publication on a clock of the test's own: a new key is in the JWKS from its
 * creation and signs only once every copy of the JWKS cached before it has expired; the key it
 * replaces is published for as long as a token it signed can be presented.
 */
import assert from "node:assert/strict";
import { decodeProtectedHeader } from "jose";
import { JWKS_MAX_AGE_SECONDS, NEXT_KEY_DELAY_MS, SigningKeys } from "../src/oauth/signing_keys.ts";
import { openStore, type Store } from "../src/store/mod.ts";

const DAY = 86_400_000;

/** Signing keys over an in-memory store, on a clock the test moves. */
async function withKeys(
  body: (keys: SigningKeys, clock: { now: number }, options: { algorithm: string }) => Promise<void>,
): Promise<void> {
  const store: Store = openStore(":memory:");
  const clock = { now: Date.UTC(2026, 11, 6, 12, 0, 0) };
  const options = { algorithm: "ES256" };
  try {
    const keys = new SigningKeys(store, new Uint8Array(32).fill(7), {
      algorithm: () => options.algorithm,
      keepRetiredMs: () => DAY,
      now: () => clock.now,
    });
    await body(keys, clock, options);
  } finally {
    store.close();
  }
}

const kidOf = async (keys: SigningKeys) => decodeProtectedHeader(await keys.sign({ iss: "test" })).kid;
const published = async (keys: SigningKeys) => (await keys.jwks()).keys.map((k) => k.kid);

Deno.test("a rotated key is published at once, signs after the delay (longer than the JWKS max-age), and the old one is kept", () =>
  withKeys(async (keys, clock) => {
    assert.ok(NEXT_KEY_DELAY_MS >= JWKS_MAX_AGE_SECONDS * 1000, "at least the JWKS cache lifetime");
    const first = await kidOf(keys);
    const { kid: next, signsFrom } = await keys.rotate();
    assert.equal(signsFrom, clock.now + NEXT_KEY_DELAY_MS);
    assert.deepEqual(await published(keys), [next, first]);

    clock.now = signsFrom - 1;
    assert.equal(await kidOf(keys), first, "the old key signs until the new one's time");
    clock.now = signsFrom;
    assert.equal(await kidOf(keys), next, "then the new one, without any reload or event");
    assert.deepEqual(await published(keys), [next, first]);

    clock.now = signsFrom + DAY;
    assert.deepEqual(await published(keys), [next], "the old key leaves once its tokens cannot be presented");
  }));

Deno.test("a second rotation before the first key signs publishes both; each signs in its turn", () =>
  withKeys(async (keys, clock) => {
    const first = await kidOf(keys);
    const a = await keys.rotate();
    clock.now += 60_000;
    const b = await keys.rotate();
    assert.deepEqual(await published(keys), [b.kid, a.kid, first]);
    clock.now = a.signsFrom;
    assert.equal(await kidOf(keys), a.kid);
    clock.now = b.signsFrom;
    assert.equal(await kidOf(keys), b.kid);
  }));

Deno.test("a change of algorithm is published first too: the old key signs until the new one's time", () =>
  withKeys(async (keys, clock, options) => {
    const first = await kidOf(keys);
    options.algorithm = "EdDSA";
    keys.reload();
    assert.equal(await kidOf(keys), first);
    const jwks = (await keys.jwks()).keys;
    assert.deepEqual(jwks.map((k) => k.alg), ["EdDSA", "ES256"]);
    clock.now += NEXT_KEY_DELAY_MS;
    const header = decodeProtectedHeader(await keys.sign({ iss: "test" }));
    assert.equal(header.alg, "EdDSA");
    assert.equal(header.kid, jwks[0].kid);
  }));
