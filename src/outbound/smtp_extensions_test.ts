import assert from "node:assert/strict";
import { hasEightBit } from "./smtp_extensions.ts";

/** The reference: any byte at or above 0x80. */
const reference = (bytes: Uint8Array) => bytes.some((b) => b >= 0x80);

Deno.test("hasEightBit agrees with a byte-by-byte check at every offset, length and position", () => {
  const buffer = new Uint8Array(64).fill(0x41);
  for (let offset = 0; offset < 5; offset++) {
    for (let length = 0; length + offset <= 40; length++) {
      const view = buffer.subarray(offset, offset + length);
      assert.equal(hasEightBit(view), false, `clean ${offset}+${length}`);
      for (let at = 0; at < length; at++) {
        for (const high of [0x80, 0xc3, 0xff]) {
          view[at] = high;
          assert.equal(hasEightBit(view), reference(view), `${high} at ${at} of ${offset}+${length}`);
          view[at] = 0x41;
        }
      }
    }
  }
});

Deno.test("hasEightBit sees a byte outside the slice as not part of it", () => {
  const buffer = new Uint8Array(16).fill(0x20);
  buffer[0] = 0xff;
  buffer[15] = 0xff;
  assert.equal(hasEightBit(buffer.subarray(1, 15)), false);
  assert.equal(hasEightBit(buffer), true);
});

Deno.test("hasEightBit agrees with the reference on random messages", () => {
  for (let n = 0; n < 500; n++) {
    const bytes = new Uint8Array(Math.floor(Math.random() * 300));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.random() < 0.002 ? 0x80 : Math.random() * 128;
    assert.equal(hasEightBit(bytes), reference(bytes));
  }
});
