import assert from "node:assert/strict";
import { openStore } from "./mod.ts";

const T = Date.UTC(2026, 11, 6, 12);
const issued = {
  domains: "mail.example.org",
  certPem: "CERT",
  keySealed: "SEALED",
  notAfter: T + 90 * 86_400_000,
};

Deno.test("a certificate row is claimed by one worker at a time, and only the holder of the claim saves", async () => {
  const store = openStore(":memory:");
  try {
    await store.certificates.ensure("server", "mail.example.org");
    await store.certificates.ensure("server", "other.example");
    assert.equal(
      (await store.certificates.get("server"))!.domains,
      "mail.example.org",
      "ensure keeps the row",
    );
    const first = await store.certificates.claim("server", T, T + 600_000);
    assert.equal(first?.claimedUntil, T + 600_000);
    assert.equal(await store.certificates.claim("server", T + 1, T + 600_001), undefined, "claim is live");
    // The claim ran out (the worker died): another worker takes it, and the first can no longer save.
    const second = await store.certificates.claim("server", T + 600_001, T + 1_200_001);
    assert.ok(second);
    assert.equal(await store.certificates.save("server", T + 600_000, { ...issued, now: T }), false);
    assert.equal(await store.certificates.save("server", T + 1_200_001, { ...issued, now: T + 5 }), true);
    const row = (await store.certificates.get("server"))!;
    assert.deepEqual([row.certPem, row.keySealed, row.claimedUntil, row.updatedAt], [
      "CERT",
      "SEALED",
      0,
      T + 5,
    ]);
  } finally {
    store.close();
  }
});

Deno.test("a failed order releases the claim and holds the next one off until its backoff ends", async () => {
  const store = openStore(":memory:");
  try {
    await store.certificates.ensure("server", "mail.example.org");
    await store.certificates.claim("server", T, T + 600_000);
    await store.certificates.fail("server", T + 600_000, { error: "CA down", nextAttemptAt: T + 300_000 });
    const row = (await store.certificates.get("server"))!;
    assert.deepEqual([row.claimedUntil, row.failures, row.lastError], [0, 1, "CA down"]);
    assert.equal(await store.certificates.claim("server", T + 299_999, T + 900_000), undefined);
    assert.ok(await store.certificates.claim("server", T + 300_000, T + 900_000));
  } finally {
    store.close();
  }
});

Deno.test("the first ACME account key stored is the one every process uses; challenge answers expire", async () => {
  const store = openStore(":memory:");
  try {
    const url = "https://acme.example/dir";
    assert.equal(await store.certificates.accountKey(url), undefined);
    assert.equal(await store.certificates.keepAccountKey(url, "first", T), "first");
    assert.equal(await store.certificates.keepAccountKey(url, "second", T + 1), "first");
    await store.certificates.putChallenge("token", "token.thumb", T + 60_000);
    assert.equal(await store.certificates.challenge("token", T + 60_000), "token.thumb");
    assert.equal(await store.certificates.challenge("token", T + 60_001), undefined);
    assert.equal(await store.certificates.challenge("other", T), undefined);
    await store.certificates.deleteChallenge("token");
    assert.equal(await store.certificates.challenge("token", T), undefined);
  } finally {
    store.close();
  }
});
