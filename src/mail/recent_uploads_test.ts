import assert from "node:assert/strict";
import { RecentUploads } from "./recent_uploads.ts";

const hash = (n: number) => new Uint8Array(32).fill(n);
const bytes = (length: number, fill = 1) => new Uint8Array(length).fill(fill);

Deno.test("an upload's bytes are found by their hash until deleted", () => {
  const recent = new RecentUploads();
  recent.add(hash(1), bytes(10, 7));
  assert.deepEqual(recent.get(new Uint8Array(hash(1))), bytes(10, 7));
  assert.equal(recent.get(hash(2)), undefined);
  recent.delete(hash(1));
  assert.equal(recent.get(hash(1)), undefined);
  assert.equal(recent.bytes, 0);
});

Deno.test("past the byte bound the oldest uploads go first, and a large upload is never held", () => {
  const recent = new RecentUploads({ totalBytes: 100, uploadBytes: 50 });
  recent.add(hash(1), bytes(40));
  recent.add(hash(2), bytes(40));
  recent.add(hash(3), bytes(40));
  assert.equal(recent.get(hash(1)), undefined);
  assert.ok(recent.get(hash(2)) && recent.get(hash(3)));
  assert.equal(recent.bytes, 80);
  recent.add(hash(4), bytes(51));
  assert.equal(recent.get(hash(4)), undefined);
  assert.equal(recent.bytes, 80);
});

Deno.test("the same content uploaded again is held once, as the newest", () => {
  const recent = new RecentUploads({ totalBytes: 100, uploadBytes: 50 });
  recent.add(hash(1), bytes(40));
  recent.add(hash(2), bytes(40));
  recent.add(hash(1), bytes(40));
  assert.equal(recent.bytes, 80);
  recent.add(hash(3), bytes(40));
  assert.equal(recent.get(hash(2)), undefined, "hash 2 was the oldest");
  assert.ok(recent.get(hash(1)));
});
