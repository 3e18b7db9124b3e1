/**
 * A login with the old password that is still being verified when the password changes must not be
 * cached after the change's invalidation ran: otherwise the old password keeps working for the
 * lifetime of the verified-header cache.
 */
import assert from "node:assert/strict";
import { basic, type TestApp } from "./helpers.ts";
import { createUser, set, withApp } from "./jmap_helpers.ts";

/** Sets an account's password as an administrator, from a ready-made hash (no hashing on the way). */
async function setPasswordHash(t: TestApp, id: string, hash: string): Promise<void> {
  const result = await set(t, "x:Account", {
    update: { [id]: { credentials: [{ "@type": "Password", secret: hash }] } },
  });
  assert.equal(result.notUpdated, null, JSON.stringify(result.notUpdated));
}

async function status(t: TestApp, authorization: string): Promise<number> {
  const response = await t.fetch("/jmap/session", { headers: { authorization } });
  await response.body?.cancel();
  return response.status;
}

Deno.test("a login racing a password change is never cached: the old password stops working at once", () =>
  withApp(async (t) => {
    const user = await createUser(t, "racer");
    // Every round tries an old password once; the throttle is tested on its own.
    await t.services.settings.update("Authentication", { failedLoginFreeAttempts: 1000 });
    const rounds = 12;
    const passwords = Array.from({ length: rounds + 1 }, (_, i) => `racer passphrase number ${i} ok`);
    // Hashed ahead, so each change commits while the racing login is still in Argon2.
    const hashes = await Promise.all(passwords.map((p) => t.services.hashing.hash(p)));
    await setPasswordHash(t, user.id, hashes[0]);
    let racedAndAccepted = 0;
    for (let round = 0; round < rounds; round++) {
      const old = basic(user.emailAddress, passwords[round]);
      const login = status(t, old);
      const change = setPasswordHash(t, user.id, hashes[round + 1]);
      const [during] = await Promise.all([login, change]);
      if (during === 200) racedAndAccepted++;
      assert.equal(
        await status(t, old),
        401,
        `round ${round}: the old password still works after the change`,
      );
      assert.equal(await status(t, basic(user.emailAddress, passwords[round + 1])), 200);
    }
    // The race was really run: most logins started before the change and finished after it.
    assert.ok(racedAndAccepted > 0, "no login overlapped a change");
  }));
