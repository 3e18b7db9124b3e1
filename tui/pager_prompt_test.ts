import assert from "node:assert/strict";
import { pagerTop } from "./pager_prompt.ts";

Deno.test("the pager's first line stays within the text: none above when it fits, the last page at the end", () => {
  assert.equal(pagerTop(5, 3, 10), 0, "fits: never scrolled");
  // 30 lines on 10 rows: 8 lines of text between the two marks.
  assert.equal(pagerTop(30, -4, 10), 0);
  assert.equal(pagerTop(30, 7, 10), 7);
  assert.equal(pagerTop(30, 30, 10), 22, "End shows the last 8 lines");
  assert.equal(pagerTop(30, 99, 10), 22);
  assert.equal(pagerTop(30, 5, 2), 5, "a tiny screen still shows one line at a time");
  assert.equal(pagerTop(30, 40, 2), 29);
});
