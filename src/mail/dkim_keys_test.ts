import assert from "node:assert/strict";
import { openStore } from "../store/mod.ts";
import { DkimKeyService } from "./dkim_keys.ts";

const sealer = { seal: (text: string) => `sealed:${text}`, open: (sealed: string) => sealed.slice(7) };

Deno.test("keys made at start are made once, also by two processes starting at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-dkim-keys-" });
  const first = openStore(`${dir}/db`);
  const second = openStore(`${dir}/db`);
  try {
    // A domain from before keys existed: inserted without any.
    const id = await first.domains.insert({ name: "old.example", description: null });
    const made = await Promise.all([
      new DkimKeyService(first, sealer).ensureAll(),
      new DkimKeyService(second, sealer).ensureAll(),
    ]);
    assert.equal(made[0] + made[1], 2, `one pair in all: ${made}`);
    const keys = await first.dkimKeys.ofDomain(id);
    assert.deepEqual(keys.map((k) => k.algorithm).sort(), ["ed25519", "rsa"]);
    assert.equal(await new DkimKeyService(first, sealer).ensureAll(), 0, "a second start makes none");
    assert.ok(keys.every((k) => k.privateKeySealed.startsWith("sealed:-----BEGIN PRIVATE KEY-----")));
  } finally {
    first.close();
    second.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotation in one month gives letter-suffixed selectors; the domain's keys follow its deletion", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-dkim-rotate-" });
  const store = openStore(`${dir}/db`);
  try {
    const now = () => Date.UTC(2026, 11, 6);
    const keys = new DkimKeyService(store, sealer, now);
    const id = await store.domains.insert({ name: "r.example", description: null });
    await keys.ensure(id);
    const once = await keys.rotate(id);
    const twice = await keys.rotate(id);
    assert.deepEqual(once.map((k) => k.selector).sort(), ["pe202612b", "pr202612b"]);
    assert.deepEqual(twice.map((k) => k.selector).sort(), ["pe202612c", "pr202612c"]);
    const all = await keys.ofDomain(id);
    assert.deepEqual(all.filter((k) => k.active).map((k) => k.selector).sort(), ["pe202612c", "pr202612c"]);
    assert.equal(all.length, 6);
    assert.deepEqual((await keys.signingKeys("R.EXAMPLE")).map((k) => k.selector).sort(), [
      "pe202612c",
      "pr202612c",
    ]);
    assert.deepEqual(await keys.signingKeys("elsewhere.example"), []);
    await store.domains.delete(id);
    assert.deepEqual(await keys.ofDomain(id), []);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
