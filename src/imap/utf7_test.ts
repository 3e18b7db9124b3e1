import assert from "node:assert/strict";
import { Random } from "../../scripts/fuzz/random.ts";
import { decodeModifiedUtf7, encodeModifiedUtf7 } from "./utf7.ts";

Deno.test("modified UTF-7 encodes and decodes RFC 3501 §5.1.3's example", () => {
  assert.equal(decodeModifiedUtf7("~peter/mail/&U,BTFw-/&ZeVnLIqe-"), "~peter/mail/台北/日本語");
  assert.equal(encodeModifiedUtf7("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  assert.equal(encodeModifiedUtf7("&"), "&-");
  assert.equal(decodeModifiedUtf7("Tom &- Jerry"), "Tom & Jerry");
  assert.equal(encodeModifiedUtf7("Entwürfe"), "Entw&APw-rfe");
  assert.equal(encodeModifiedUtf7("☺!"), "&Jjo-!");
  assert.equal(encodeModifiedUtf7("📧"), "&2D3c5w-");
  assert.equal(decodeModifiedUtf7("&2D3c5w-"), "📧");
  assert.equal(encodeModifiedUtf7(""), "");
});

Deno.test("modified UTF-7 refuses what RFC 3501 calls incorrect, and other malformed names", () => {
  for (
    const [bad, why] of [
      ["&Jjo!", /unterminated/],
      ["&U,BTFw-&ZeVnLIqe-", /two BASE64 runs/],
      ["&AGE-", /printable ASCII/],
      ["&Jj-", /leftover bits/],
      ["&Jjo/-", /in a BASE64 run/],
      ["&Jjo=-", /in a BASE64 run/],
      ["&2D0-", /lone surrogate/],
      ["&3D0-", /lone surrogate/],
      ["caf\u00e9", /8-bit/],
      ["a\tb", /control/],
    ] as const
  ) assert.throws(() => decodeModifiedUtf7(bad), why, bad);
});

Deno.test("modified UTF-7 round-trips random names (seeded property)", () => {
  const seed = Number(Deno.env.get("POSTERN_FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`utf7 round-trip seed ${seed} (replay with POSTERN_FUZZ_SEED=${seed})`);
  const random = new Random(seed);
  const pools = [[0x20, 0x7e], [0xa0, 0x2ff], [0x4e00, 0x9fff], [0x1f300, 0x1faff], [0x1, 0x1f], [
    0xe000,
    0xfffd,
  ]];
  for (let round = 0; round < 2000; round++) {
    let name = "";
    const length = random.int(0, 24);
    for (let k = 0; k < length; k++) {
      const [low, high] = random.pick(pools);
      name += String.fromCodePoint(random.int(low, high));
    }
    const encoded = encodeModifiedUtf7(name);
    assert.match(encoded, /^[\x20-\x7e]*$/);
    assert.equal(decodeModifiedUtf7(encoded), name, `seed ${seed} round ${round}: ${JSON.stringify(name)}`);
    // The spelling is canonical: decoding then encoding gives it back.
    assert.equal(encodeModifiedUtf7(decodeModifiedUtf7(encoded)), encoded);
  }
});
