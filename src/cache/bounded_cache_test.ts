import assert from "node:assert/strict";
import { BoundedCache, type BoundedCacheSettings } from "./mod.ts";

function makeCache(settings: Partial<BoundedCacheSettings> = {}) {
  const clock = { now: 1_000 };
  const cache = new BoundedCache<string, number>({
    name: "test",
    maxEntries: 10,
    ttlMs: 1_000,
    negativeTtlMs: 100,
    now: () => clock.now,
    ...settings,
  });
  return { cache, clock };
}

Deno.test("cache tells a positive hit, a negative hit and a miss apart", () => {
  const { cache } = makeCache();
  cache.set("alice", 17);
  cache.setNegative("test");
  assert.deepEqual(cache.get("alice"), { status: "hit", value: 17 });
  assert.deepEqual(cache.get("test"), { status: "negative" });
  assert.deepEqual(cache.get("bob"), { status: "miss" });
});

Deno.test("cache set replaces a negative entry for the same key", () => {
  const { cache } = makeCache();
  cache.setNegative("test");
  cache.set("test", 5);
  assert.deepEqual(cache.get("test"), { status: "hit", value: 5 });
  assert.equal(cache.size, 1);
});

Deno.test("cache treats an expired entry as a miss and drops it", () => {
  const { cache, clock } = makeCache();
  cache.set("alice", 17);
  clock.now += 999;
  assert.equal(cache.get("alice").status, "hit");
  clock.now += 1;
  assert.equal(cache.get("alice").status, "miss");
  assert.equal(cache.size, 0);
});

Deno.test("cache expires negative entries on their own, shorter TTL", () => {
  const { cache, clock } = makeCache();
  cache.set("alice", 17);
  cache.setNegative("test");
  clock.now += 100;
  assert.equal(cache.get("test").status, "miss");
  assert.equal(cache.get("alice").status, "hit");
});

Deno.test("cache evicts the least recently used entry, and a get counts as use", () => {
  const { cache, clock } = makeCache({ maxEntries: 3, ttlMs: 60_000 });
  cache.set("a", 1);
  cache.set("b", 2);
  cache.set("c", 3);
  clock.now += 1_000; // recency moves at most once a second per entry
  cache.get("a");
  cache.set("d", 4);
  assert.equal(cache.get("b").status, "miss");
  cache.set("e", 5);
  assert.equal(cache.get("c").status, "miss");
  assert.deepEqual(["a", "d", "e"].map((k) => cache.get(k).status), ["hit", "hit", "hit"]);
  assert.equal(cache.stats().evictions, 2);
});

Deno.test("cache clearNegative keeps positive entries", () => {
  const { cache } = makeCache();
  cache.set("alice", 17);
  cache.setNegative("test");
  cache.setNegative("other");
  cache.clearNegative();
  assert.equal(cache.get("alice").status, "hit");
  assert.equal(cache.get("test").status, "miss");
  assert.equal(cache.get("other").status, "miss");
  assert.equal(cache.stats().invalidations, 2);
});

Deno.test("cache deleteWhere removes matching entries and passes undefined for negative ones", () => {
  const { cache } = makeCache();
  cache.set("a", 1);
  cache.set("b", 2);
  cache.setNegative("c");
  const seen: [string, number | undefined][] = [];
  const removed = cache.deleteWhere((key, value) => {
    seen.push([key, value]);
    return value === undefined || value > 1;
  });
  assert.equal(removed, 2);
  assert.deepEqual(seen, [["a", 1], ["b", 2], ["c", undefined]]);
  assert.equal(cache.size, 1);
  assert.equal(cache.get("a").status, "hit");
});

Deno.test("cache updateOptions applies new TTLs to existing entries and shrinks at once", () => {
  const { cache, clock } = makeCache();
  cache.set("a", 1);
  cache.set("b", 2);
  cache.setNegative("c");
  clock.now += 50;
  cache.updateOptions({ negativeTtlMs: 0, maxEntries: 2 });
  assert.equal(cache.size, 2);
  assert.equal(cache.get("a").status, "miss");
  assert.equal(cache.get("c").status, "miss");
  cache.setNegative("d");
  assert.equal(cache.get("d").status, "miss");
  assert.throws(() => cache.updateOptions({ ttlMs: -1 }), RangeError);
});

Deno.test("cache counters are exact after a scripted sequence", () => {
  const { cache, clock } = makeCache({ maxEntries: 2, ttlMs: 1_500, negativeTtlMs: 1_500 });
  cache.set("a", 1);
  cache.setNegative("n");
  clock.now += 1_000;
  cache.get("n"); // negative hit
  cache.get("a"); // hit, so "n" is now least recent
  cache.get("x"); // miss
  cache.set("b", 2); // evicts "n"
  cache.get("n"); // miss
  clock.now += 600;
  cache.get("a"); // expired: miss, removed without counting an invalidation
  cache.set("c", 3);
  cache.delete("b"); // invalidation
  cache.delete("b"); // nothing to remove
  cache.setNegative("m");
  cache.clear(); // two invalidations
  assert.deepEqual(cache.stats(), {
    name: "test",
    hits: 1,
    misses: 3,
    negativeHits: 1,
    evictions: 1,
    invalidations: 3,
    size: 0,
  });
});

Deno.test("cache recency moves at most once a second, so a burst of hits costs no Map writes", () => {
  const { cache, clock } = makeCache({ maxEntries: 2, ttlMs: 60_000 });
  cache.set("a", 1);
  cache.set("b", 2);
  cache.get("a"); // same second as its store: recency unchanged, "a" stays least recent
  cache.set("c", 3);
  assert.equal(cache.get("a").status, "miss");
  clock.now += 1_000;
  cache.get("b"); // a second later the get counts: "c" is now least recent
  cache.set("d", 4);
  assert.equal(cache.get("c").status, "miss");
  assert.equal(cache.get("b").status, "hit");
});

Deno.test("a fill that read before an invalidation of its key is not stored, whatever the kind", () => {
  const { cache } = makeCache({ negativeTtlMs: 1_000 });
  for (
    const invalidate of [
      () => cache.delete("alice"),
      () => cache.deleteWhere((_, value) => value === 17),
      () => cache.clear(),
    ]
  ) {
    const since = cache.epoch();
    invalidate();
    assert.equal(cache.set("alice", 17, since), false);
    assert.equal(cache.get("alice").status, "miss");
  }
  // A negative answer read before a write that may have created the key (clearNegative).
  const since = cache.epoch();
  cache.clearNegative();
  assert.equal(cache.setNegative("test", since), false);
  assert.equal(cache.get("test").status, "miss");
});

Deno.test("a fill is stored when what was invalidated meanwhile does not concern it", () => {
  const { cache } = makeCache({ negativeTtlMs: 1_000 });
  const since = cache.epoch();
  cache.delete("bob");
  cache.deleteWhere((_, value) => value === 99);
  cache.clearNegative();
  assert.equal(cache.set("alice", 17, since), true);
  assert.deepEqual(cache.get("alice"), { status: "hit", value: 17 });
  // Without an epoch, set stores as before.
  cache.delete("carol");
  assert.equal(cache.set("carol", 3), true);
});

Deno.test("a fill older than the invalidations the cache remembers is refused", () => {
  const { cache } = makeCache();
  const since = cache.epoch();
  for (let i = 0; i < 65; i++) cache.delete(`other-${i}`);
  assert.equal(cache.set("alice", 17, since), false);
  assert.equal(cache.set("alice", 17, cache.epoch()), true);
});
