/**
 * Secret settings (write-only fields: the smarthost password) are stored sealed under the server's
 * encryption key: the database alone does not give them away, the server reads them back, a database
 * opened with another key reads them as unset, and a value stored before sealing is still read.
 */
import assert from "node:assert/strict";
import { openServices } from "../src/services.ts";

Deno.test("the smarthost password is sealed at rest, read back with the key, unset without it", async () => {
  const dir = await Deno.makeTempDir();
  const open = (key: number) =>
    openServices({
      databasePath: `${dir}/postern.db`,
      encryptionKey: new Uint8Array(64).fill(key),
      hashWorkers: 1,
    });
  try {
    let services = await open(1);
    await services.settings.update("Smarthost", {
      host: "smtp.example.net",
      username: "relay",
      password: "s3cret relay password",
    });
    const raw = await services.store.settings.get("Smarthost") as Record<string, unknown>;
    assert.match(String(raw.password), /^sealed:[A-Za-z0-9_-]+$/);
    assert.ok(!JSON.stringify(raw).includes("s3cret"), "no plain text in the row");
    assert.equal(raw.username, "relay", "only secrets are sealed");
    assert.equal((await services.settings.get("Smarthost")).password, "s3cret relay password");
    // Another update keeps the secret (sealed afresh) and changes what it says.
    await services.settings.update("Smarthost", { port: 465 });
    assert.equal((await services.settings.get("Smarthost")).password, "s3cret relay password");
    await services.close();

    services = await open(2);
    const other = await services.settings.get("Smarthost");
    assert.equal(other.password, null, "sealed under another key: unset");
    assert.equal(other.host, "smtp.example.net");
    // A row written before secrets were sealed is read as it is.
    await services.store.settings.put("Smarthost", { ...other, password: "stored plainly" });
    assert.equal((await services.settings.get("Smarthost")).password, "stored plainly");
    await services.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
