import assert from "node:assert/strict";
import { decodeId, encodeId } from "./ids.ts";

Deno.test("the first id is spelled b, as in Stalwart's examples", () => {
  assert.equal(encodeId(1), "b");
  assert.equal(decodeId("b"), 1);
  assert.equal(encodeId(0), "a");
  assert.equal(encodeId(31), "3");
  assert.equal(encodeId(32), "ba");
});

Deno.test("every id decodes back to the number it was encoded from", () => {
  const ids = [0, 1, 2, 25, 26, 31, 32, 33, 1023, 1024, 65_535, 1_000_000, 2 ** 31, 2 ** 40, 2 ** 50 - 1];
  for (let id = 0; id < 5000; id++) ids.push(id);
  for (const id of ids) {
    const wire = encodeId(id);
    assert.match(wire, /^[a-z792013]+$/, `${id} → ${wire}`);
    assert.equal(decodeId(wire), id, `${id} → ${wire}`);
  }
});

Deno.test("each id has exactly one spelling: a leading zero digit is refused", () => {
  for (const wire of ["ab", "aab", "aaaaaaaaab", "aa", "a3"]) {
    assert.equal(decodeId(wire), undefined, wire);
  }
  // "a" itself is the canonical spelling of 0.
  assert.equal(decodeId("a"), 0);
});

Deno.test("text that is not an id decodes to undefined", () => {
  const garbage = [
    "",
    " ",
    " b",
    "b ",
    "B",
    "Ab",
    "4",
    "5",
    "6",
    "8",
    "b-c",
    "b.c",
    "b/c",
    "'; DROP TABLE accounts;--",
    "é",
    "b\u0000",
    "bbbbbbbbbbb", // 11 characters: longer than any id
  ];
  for (const wire of garbage) assert.equal(decodeId(wire), undefined, JSON.stringify(wire));
  for (const wrong of [1, null, undefined, {}, ["b"]]) {
    assert.equal(decodeId(wrong as unknown as string), undefined, String(wrong));
  }
});

Deno.test("negative, fractional and unsafe numbers cannot be encoded", () => {
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    assert.throws(() => encodeId(bad), RangeError, String(bad));
  }
});
