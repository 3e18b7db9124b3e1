import assert from "node:assert/strict";
import { openStore } from "../store/mod.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { SharedRateLimiter } from "./shared_rate_limiter.ts";

const SETTINGS = { freeAttempts: 3, windowMs: 60_000, baseDelayMs: 1000, maxDelayMs: 8000, maxKeys: 1000 };

Deno.test("the shared throttle decides as the in-memory one over failures, waits and expiry", async () => {
  const clock = { now: 1_000_000 };
  const now = () => clock.now;
  const store = openStore(":memory:");
  try {
    const shared = new SharedRateLimiter(store.loginThrottle, { ...SETTINGS, now });
    const memory = new RateLimiter({ ...SETTINGS, now });
    // Failures, checks and clock steps, drawn from a fixed seed so a failure can be replayed.
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let step = 0; step < 400; step++) {
      const key = `ip:192.0.2.${Math.floor(next() * 3)}`;
      const roll = next();
      if (roll < 0.45) {
        memory.fail(key);
        await shared.fail(key);
      } else if (roll < 0.8) {
        assert.deepEqual(await shared.check(key), memory.check(key), `step ${step}: ${key}`);
      } else {
        clock.now += Math.floor(next() * 20_000);
      }
    }
    assert.deepEqual(await shared.stats(), memory.stats());
  } finally {
    store.close();
  }
});

Deno.test("two processes' throttles on one database count one attacker's failures together", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-throttle-" });
  const first = openStore(`${dir}/postern.db`);
  const second = openStore(`${dir}/postern.db`);
  try {
    const a = new SharedRateLimiter(first.loginThrottle, SETTINGS);
    const b = new SharedRateLimiter(second.loginThrottle, SETTINGS);
    // Three free attempts in all, alternating between the processes.
    await a.fail("account:alice@example.org");
    await b.fail("account:alice@example.org");
    assert.deepEqual(await a.check("account:alice@example.org"), { allowed: true });
    await a.fail("account:alice@example.org");
    assert.deepEqual(await b.check("account:alice@example.org"), { allowed: true });
    await b.fail("account:alice@example.org");
    for (const limiter of [a, b]) {
      const decision = await limiter.check("account:alice@example.org");
      assert.equal(decision.allowed, false);
    }
    assert.deepEqual(await a.check("account:bob@example.org"), { allowed: true });
    assert.deepEqual(await b.stats(), { trackedKeys: 1, blocked: 1 });
  } finally {
    first.close();
    second.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the shared throttle keeps at most maxKeys keys, dropping the least recently failed", async () => {
  const store = openStore(":memory:");
  try {
    const limiter = new SharedRateLimiter(store.loginThrottle, { ...SETTINGS, maxKeys: 3 });
    for (const n of [1, 2, 3, 4, 5]) await limiter.fail(`ip:192.0.2.${n}`);
    assert.equal((await limiter.stats()).trackedKeys, 3);
    assert.equal(await store.loginThrottle.get("ip:192.0.2.1"), undefined);
    assert.ok(await store.loginThrottle.get("ip:192.0.2.5"));
  } finally {
    store.close();
  }
});
