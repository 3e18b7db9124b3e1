import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { generateKeyPairSync, sign } from "node:crypto";
import { inlineRsaSign } from "./dkim_signing.ts";
import { RsaSignPool } from "./rsa_sign_pool.ts";

const pemOf = () =>
  String(
    generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }),
  );

Deno.test("the worker's RSA signatures are crypto.sign's, for many asked at once and two keys", async () => {
  const pems = [pemOf(), pemOf()];
  let inline = 0;
  const pool = new RsaSignPool((pem, data) => {
    inline++;
    return inlineRsaSign(pem, data);
  });
  try {
    const asked = Array.from({ length: 24 }, (_, i) => ({
      pem: pems[i % 2],
      data: new TextEncoder().encode(`from:alice@example.org\r\nsubject:${"x".repeat(i * 100)}\r\n`),
    }));
    const made = await Promise.all(asked.map(({ pem, data }) => pool.sign(pem, data)));
    made.forEach((signature, i) =>
      assert.deepEqual(Buffer.from(signature), sign("sha256", asked[i].data, asked[i].pem), `signature ${i}`)
    );
    assert.equal(inline, 0, "all were made by the worker");
  } finally {
    pool.close();
  }
});

Deno.test("a bad key is refused with the worker's reason, and the next signature is still made", async () => {
  const pool = new RsaSignPool(inlineRsaSign);
  try {
    await assert.rejects(pool.sign("not a PEM", new Uint8Array([1])));
    const pem = pemOf();
    const data = new Uint8Array([1, 2, 3]);
    assert.deepEqual(Buffer.from(await pool.sign(pem, data)), sign("sha256", data, pem));
  } finally {
    pool.close();
  }
});

Deno.test("after close, signatures are made on the calling thread", async () => {
  const pem = pemOf();
  const data = new Uint8Array([4, 5, 6]);
  let inline = 0;
  const pool = new RsaSignPool((p, d) => {
    inline++;
    return inlineRsaSign(p, d);
  });
  pool.close();
  assert.deepEqual(Buffer.from(await pool.sign(pem, data)), sign("sha256", data, pem));
  assert.equal(inline, 1);
});
