import assert from "node:assert/strict";
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitOptions } from "./rate_limiter.ts";

function makeLimiter(options: Partial<RateLimitOptions> = {}) {
  const clock = { now: 1_000_000 };
  const limiter = new RateLimiter({ ...options, now: () => clock.now });
  return { limiter, clock };
}

function failTimes(limiter: RateLimiter, key: string, times: number) {
  for (let i = 0; i < times; i++) limiter.fail(key);
}

Deno.test("rate limiter lets the free attempts through without delay", () => {
  const { limiter } = makeLimiter();
  for (let i = 0; i < DEFAULT_RATE_LIMIT.freeAttempts; i++) {
    assert.deepEqual(limiter.check("account:alice"), { allowed: true });
    limiter.fail("account:alice");
  }
  assert.deepEqual(limiter.check("account:alice"), { allowed: true });
  assert.deepEqual(limiter.stats(), { trackedKeys: 1, blocked: 0 });
});

Deno.test("rate limiter blocks the 6th failure for 1s and the 7th for 2s", () => {
  const { limiter, clock } = makeLimiter();
  failTimes(limiter, "ip:192.0.2.1", 6);
  assert.deepEqual(limiter.check("ip:192.0.2.1"), { allowed: false, retryAfterMs: 1000 });
  clock.now += 999;
  assert.deepEqual(limiter.check("ip:192.0.2.1"), { allowed: false, retryAfterMs: 1 });
  clock.now += 1;
  assert.deepEqual(limiter.check("ip:192.0.2.1"), { allowed: true });
  limiter.fail("ip:192.0.2.1");
  assert.deepEqual(limiter.check("ip:192.0.2.1"), { allowed: false, retryAfterMs: 2000 });
  clock.now += 2000;
  limiter.fail("ip:192.0.2.1");
  assert.deepEqual(limiter.check("ip:192.0.2.1"), { allowed: false, retryAfterMs: 4000 });
});

Deno.test("rate limiter keeps keys apart", () => {
  const { limiter } = makeLimiter();
  failTimes(limiter, "ip:192.0.2.1", 6);
  assert.equal(limiter.check("ip:192.0.2.1").allowed, false);
  assert.deepEqual(limiter.check("ip:192.0.2.2"), { allowed: true });
  assert.deepEqual(limiter.check("account:alice"), { allowed: true });
});

Deno.test("rate limiter caps the delay at maxDelayMs", () => {
  const { limiter } = makeLimiter({ maxDelayMs: 5000, windowMs: Infinity });
  failTimes(limiter, "account:alice", 5 + 20);
  assert.deepEqual(limiter.check("account:alice"), { allowed: false, retryAfterMs: 5000 });
  failTimes(limiter, "account:alice", 2000);
  assert.deepEqual(limiter.check("account:alice"), { allowed: false, retryAfterMs: 5000 });
});

Deno.test("rate limiter forgets failures once the window since the first has passed", () => {
  const { limiter, clock } = makeLimiter();
  failTimes(limiter, "account:alice", 5);
  clock.now += DEFAULT_RATE_LIMIT.windowMs;
  failTimes(limiter, "account:alice", 5);
  assert.deepEqual(limiter.check("account:alice"), { allowed: true });
  limiter.fail("account:alice");
  assert.deepEqual(limiter.check("account:alice"), { allowed: false, retryAfterMs: 1000 });
});

Deno.test("rate limiter never blocks for good: a block ends and the count then resets", () => {
  const { limiter, clock } = makeLimiter({ windowMs: 10_000, maxDelayMs: 60_000 });
  failTimes(limiter, "account:alice", 5 + 10);
  assert.deepEqual(limiter.check("account:alice"), { allowed: false, retryAfterMs: 60_000 });
  clock.now += 59_999;
  // The window has long closed, but the announced block is honoured to its end.
  assert.deepEqual(limiter.check("account:alice"), { allowed: false, retryAfterMs: 1 });
  clock.now += 1;
  assert.deepEqual(limiter.check("account:alice"), { allowed: true });
  assert.deepEqual(limiter.stats(), { trackedKeys: 0, blocked: 0 });
  failTimes(limiter, "account:alice", 5);
  assert.deepEqual(limiter.check("account:alice"), { allowed: true });
});

Deno.test("rate limiter clears a key after a success", () => {
  const { limiter } = makeLimiter();
  failTimes(limiter, "account:alice", 7);
  assert.equal(limiter.check("account:alice").allowed, false);
  limiter.succeed("account:alice");
  assert.deepEqual(limiter.check("account:alice"), { allowed: true });
  failTimes(limiter, "account:alice", 5);
  assert.deepEqual(limiter.check("account:alice"), { allowed: true });
});

Deno.test("rate limiter tracks at most maxKeys, dropping the least recently failed", () => {
  const { limiter } = makeLimiter({ maxKeys: 3, freeAttempts: 0 });
  for (const key of ["ip:a", "ip:b", "ip:c"]) limiter.fail(key);
  limiter.fail("ip:a");
  limiter.fail("ip:d");
  assert.deepEqual(limiter.stats(), { trackedKeys: 3, blocked: 3 });
  assert.deepEqual(limiter.check("ip:b"), { allowed: true });
  for (const key of ["ip:a", "ip:c", "ip:d"]) assert.equal(limiter.check(key).allowed, false);
  limiter.updateOptions({ maxKeys: 1 });
  assert.deepEqual(limiter.stats(), { trackedKeys: 1, blocked: 1 });
  assert.equal(limiter.check("ip:d").allowed, false);
});

Deno.test("rate limiter applies updated options and rejects invalid ones", () => {
  const { limiter } = makeLimiter();
  limiter.updateOptions({ freeAttempts: 1, baseDelayMs: 250, maxKeys: undefined });
  failTimes(limiter, "ip:192.0.2.1", 2);
  assert.deepEqual(limiter.check("ip:192.0.2.1"), { allowed: false, retryAfterMs: 250 });
  assert.throws(() => limiter.updateOptions({ maxKeys: 0 }), RangeError);
  assert.throws(() => new RateLimiter({ freeAttempts: 1.5 }), RangeError);
});
