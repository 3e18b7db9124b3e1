import assert from "node:assert/strict";
import { seekAtLeast } from "./fetch_view.ts";

/** The walk seekAtLeast replaces: the reference it is checked against. */
function walk(values: readonly number[], from: number, target: number): number {
  let at = from;
  while (at < values.length && values[at] < target) at++;
  return at;
}

Deno.test("seekAtLeast finds what a walk finds, from any start, for any target", () => {
  let seed = 24;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let round = 0; round < 300; round++) {
    const values: number[] = [];
    let uid = 0;
    const length = Math.floor(random() * 70);
    for (let i = 0; i < length; i++) values.push(uid += 1 + Math.floor(random() * 4));
    for (let probe = 0; probe < 40; probe++) {
      const from = Math.floor(random() * (values.length + 2));
      const target = Math.floor(random() * (uid + 6)) - 2;
      assert.equal(
        seekAtLeast(values, from, target),
        walk(values, from, target),
        `${values} ${from} ${target}`,
      );
    }
  }
});

Deno.test("seekAtLeast at the edges: empty, before the first, past the last, exact hits", () => {
  assert.equal(seekAtLeast([], 0, 5), 0);
  assert.equal(seekAtLeast([3, 5, 9], 0, 1), 0);
  assert.equal(seekAtLeast([3, 5, 9], 0, 10), 3);
  assert.equal(seekAtLeast([3, 5, 9], 0, 9), 2);
  assert.equal(seekAtLeast([3, 5, 9], 1, 3), 1, "never goes back before `from`");
  const big = Array.from({ length: 100_000 }, (_, i) => i + 1);
  assert.equal(seekAtLeast(big, 0, 100_000), 99_999);
  assert.equal(seekAtLeast(big, 41, 42), 41);
});
