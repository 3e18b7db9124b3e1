import assert from "node:assert/strict";
import {
  fromBase64Url,
  openToken,
  readClearClaims,
  sealToken,
  toBase64Url,
  type TokenClaims,
} from "./token_codec.ts";

const claims: TokenClaims = {
  kind: "access",
  accountId: 17,
  clientRowId: 3,
  issuedAt: 1_790_000_000,
  expiresAt: 1_790_003_600,
  grantId: 123_456,
  generation: 2,
  scopes: ["openid", "urn:ietf:params:jmap:mail"],
};
const material = {
  serverKey: new TextEncoder().encode("k".repeat(64)),
  clientId: "webmail",
  accountName: "alice@example.org",
  credentialSecret: new TextEncoder().encode("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
};

Deno.test("a sealed token opens with the same key material and says what was sealed", () => {
  const token = sealToken(claims, material);
  assert.match(token, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(openToken(token, material), claims);
  assert.deepEqual(readClearClaims(token), {
    kind: "access",
    accountId: 17,
    clientRowId: 3,
    issuedAt: claims.issuedAt,
    expiresAt: claims.expiresAt,
  });
});

Deno.test("a token does not open after the password, the server key, the client or the name changed", () => {
  const token = sealToken(claims, material);
  const other = (s: string) => new TextEncoder().encode(s);
  assert.equal(openToken(token, { ...material, credentialSecret: other("$argon2id$new") }), undefined);
  assert.equal(openToken(token, { ...material, serverKey: other("x".repeat(64)) }), undefined);
  assert.equal(openToken(token, { ...material, clientId: "other" }), undefined);
  assert.equal(openToken(token, { ...material, accountName: "bob@example.org" }), undefined);
});

Deno.test("a token whose clear part was edited (a longer expiry, another account) does not open", () => {
  const token = sealToken(claims, material);
  const forged = sealToken({ ...claims, expiresAt: claims.expiresAt + 1 }, material);
  // The forged clear part (version, kind, account 17, client 3, two 5-byte times: 14 bytes) on the
  // original ciphertext.
  const original = fromBase64Url(token);
  const spliced = fromBase64Url(forged);
  spliced.set(original.subarray(14), 14);
  assert.notEqual(toBase64Url(spliced), token);
  assert.equal(openToken(toBase64Url(spliced), material), undefined);
  for (const junk of ["", "abc", "!!!!", "A".repeat(600), "AQE" + "A".repeat(40)]) {
    assert.equal(openToken(junk, material), undefined, junk);
  }
});

Deno.test("tokens keep their bytes across versions: these, sealed by the first codec, still open", () => {
  // Issued tokens must survive an upgrade: the key, nonce and seal are a stable format, whatever
  // implementation computes them (a client_id past one BLAKE3 chunk takes another path: the second;
  // a name that is not ASCII another: the third).
  const refresh = { ...claims, kind: "refresh" as const, generation: 7, scopes: ["offline_access"] };
  const longClient = { ...material, clientId: "c".repeat(900) };
  const vectors: [TokenClaims, typeof material, string][] = [
    [claims, material, "AQERA4D3xNUGkJPF1QZivUB-sjhteJFhaHdsemSCSthH_Fw"],
    [refresh, longClient, "AQIRA4D3xNUGkJPF1QZX_dabnAE9WzTaOKS4bvCQ4BgqPSU"],
    [
      claims,
      { ...material, accountName: "élise@exämple.org" },
      "AQERA4D3xNUGkJPF1QYVyrIG0XC-0VAkdMea5wiFOcj-_Hs",
    ],
  ];
  for (const [sealed, keyMaterial, token] of vectors) {
    assert.equal(sealToken(sealed, keyMaterial), token);
    assert.deepEqual(openToken(token, keyMaterial), sealed);
  }
});
