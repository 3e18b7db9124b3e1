import assert from "node:assert/strict";
import { MAX_JSON_DEPTH, nestedDeeperThan, parseJson } from "./json.ts";

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

Deno.test("parseJson refuses JSON nested deeper than the limit and takes the limit itself", () => {
  assert.throws(() => parseJson(nested(10_000)), SyntaxError);
  assert.throws(() => parseJson(`{"a":${nested(MAX_JSON_DEPTH)}}`), /nested deeper than 128/);
  assert.equal((parseJson(nested(MAX_JSON_DEPTH)) as unknown[]).length, 1);
});

Deno.test("brackets inside strings, escaped quotes included, do not count as nesting", () => {
  const text = JSON.stringify({ a: "[".repeat(500), b: '\\"[[[[' + "{".repeat(300), c: ["\\"] });
  assert.equal(nestedDeeperThan(text, 3), false);
  assert.deepEqual(parseJson(text), JSON.parse(text));
});

Deno.test("the depth found agrees with the depth of what JSON.parse builds", () => {
  const depthOf = (value: unknown): number =>
    value !== null && typeof value === "object"
      ? 1 + Math.max(0, ...Object.values(value as object).map(depthOf))
      : 0;
  const random = (seed: number) => () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const next = random(7);
  const build = (level: number): unknown => {
    const r = next();
    if (level > 12 || r < 0.25) return r < 0.1 ? '"]}\\"' : r < 0.2 ? "x[" : 1;
    if (r < 0.6) return Array.from({ length: 1 + Math.floor(next() * 3) }, () => build(level + 1));
    return Object.fromEntries(
      Array.from({ length: 1 + Math.floor(next() * 3) }, (_, i) => [`k${i}[`, build(level + 1)]),
    );
  };
  for (let i = 0; i < 300; i++) {
    const text = JSON.stringify(build(0));
    const depth = depthOf(JSON.parse(text));
    assert.equal(nestedDeeperThan(text, depth), false, text);
    if (depth > 0 && text.length > depth - 1) assert.equal(nestedDeeperThan(text, depth - 1), true, text);
  }
});
