/**
 * An unknown login must cost what a known one costs, also after the Argon2 settings change (stored
 * hashes keep the parameters they were made with). Asserted on what the hasher is asked to do, never
 * on a clock: an unknown login verifies against a hash with the parameters of the stored passwords.
 */
import assert from "node:assert/strict";
import { basic, type TestApp } from "./helpers.ts";
import { createUser, withApp } from "./jmap_helpers.ts";

/** Records the Argon2 parameters (`m=…,t=…,p=…`) of every verification the server runs. */
function recordVerifications(t: TestApp): string[] {
  const asked: string[] = [];
  const verify = t.services.hashing.verify;
  t.services.hashing.verify = (phc: string, password: string) => {
    asked.push(/^\$argon2id\$v=19\$([^$]*)\$/.exec(phc)?.[1] ?? phc);
    return verify(phc, password);
  };
  return asked;
}

/** The parameters the one verification of a fresh login used. */
async function parametersOf(t: TestApp, asked: string[], login: string, password: string): Promise<string> {
  asked.length = 0;
  const response = await t.fetch("/api/account", { headers: { authorization: basic(login, password) } });
  await response.body?.cancel();
  assert.equal(asked.length, 1, `${login}: ${asked.join(" ")}`);
  return asked[0];
}

Deno.test("after the Argon2 settings change, an unknown login verifies with the parameters the stored passwords have", () =>
  withApp(async (t) => {
    const erin = await createUser(t, "erin");
    const frank = await createUser(t, "frank");
    await t.services.settings.update("Authentication", { failedLoginFreeAttempts: 1000 });
    const asked = recordVerifications(t);
    const stored = await parametersOf(t, asked, erin.emailAddress, "a wrong password");
    assert.equal(await parametersOf(t, asked, "nobody@example.org", "a password"), stored);

    // Cheaper parameters from now on: every stored hash still costs the old ones.
    await t.services.settings.update("Authentication", { argon2MemoryKiB: 8192, argon2Iterations: 1 });
    assert.equal(await parametersOf(t, asked, frank.emailAddress, "another wrong password"), stored);
    assert.equal(await parametersOf(t, asked, "nobody@example.org", "another password"), stored);
    assert.equal(await parametersOf(t, asked, "nobody-else", "a third password"), stored);

    // Once most passwords are set again (with the new parameters), unknown logins follow them.
    for (const id of [erin.id, frank.id]) {
      await t.services.objects.update("account", id, {
        credentials: [{ "@type": "Password", secret: `a new passphrase for ${id}` }],
      }, "system");
    }
    const fresh = await parametersOf(t, asked, erin.emailAddress, "a fourth wrong password");
    assert.equal(fresh, "m=8192,t=1,p=1");
    assert.equal(await parametersOf(t, asked, "nobody@example.org", "a fifth password"), fresh);
  }));
