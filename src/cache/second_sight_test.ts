import assert from "node:assert/strict";
import { hexHash, SecondSight } from "./second_sight.ts";

Deno.test("a key is seen again only after a first sight, and the memory starts over past its bound", () => {
  const sight = new SecondSight(3);
  assert.equal(sight.again(7), false);
  assert.equal(sight.again(7), true);
  // Cached now by its caller: a third sight is a first one again (the caller's cache answers it).
  assert.equal(sight.again(7), false);
  for (const key of [1, 2, 3]) assert.equal(sight.again(key), false);
  // The bound was reached at the fourth key: 7 was forgotten with the rest, 4 is the only one left.
  assert.equal(sight.again(4), false);
  assert.equal(sight.again(1), false);
  assert.equal(sight.again(4), true);
  sight.clear();
  assert.equal(sight.again(1), false);
});

Deno.test("keys are told apart by 28 bits of their hash: more only within one, fewer never", () => {
  const sight = new SecondSight(10);
  assert.equal(sight.again(0x1234567), false);
  assert.equal(sight.again(0x71234567), true, "the same low 28 bits");
  assert.equal(hexHash("abcdef0123"), 0xabcdef0);
  assert.equal(hexHash("ffffffffff") & ~0xfffffff, 0);
});
