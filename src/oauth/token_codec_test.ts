import assert from "node:assert/strict";
import { gcmsiv } from "@noble/ciphers/aes.js";
import { blake3 } from "@noble/hashes/blake3.js";
import { SCOPES } from "../model/objects/mod.ts";
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

Deno.test("tokens sealed by the first codec (version 1) still open, and only with their own material", () => {
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
    assert.deepEqual(openToken(token, keyMaterial), sealed);
    assert.deepEqual(readClearClaims(token), readClearClaims(sealToken(sealed, keyMaterial)));
    assert.equal(openToken(token, { ...keyMaterial, credentialSecret: new Uint8Array(8) }), undefined);
  }
  // The same bytes read as version 2 (the version byte is authenticated like the rest) do not open.
  const bytes = fromBase64Url(vectors[0][2]);
  bytes[0] = 2;
  assert.equal(openToken(toBase64Url(bytes), material), undefined);
});

/** The format of token_codec.ts's version 2, written out with @noble's BLAKE3 and AES-GCM-SIV. */
function referenceV2(claims: TokenClaims, m: typeof material): string {
  const utf8 = (s: string) => [...new TextEncoder().encode(s)];
  const varint = (n: number): number[] =>
    n < 0x80 ? [n] : [(n % 0x80) | 0x80, ...varint(Math.floor(n / 0x80))];
  const bytes = (b: number[]) => [...varint(b.length), ...b];
  const kind = claims.kind === "access" ? 1 : 2;
  const scopeBits = claims.scopes.reduce((bits, s) => bits | 2 ** Object.keys(SCOPES).indexOf(s), 0);
  const plain = [...varint(claims.grantId), ...varint(claims.generation), ...varint(scopeBits)];
  const clear = [2, kind, ...varint(claims.accountId), ...varint(claims.clientRowId)];
  clear.push(...varint(claims.issuedAt), ...varint(claims.expiresAt));
  const input = [...bytes([...m.serverKey]), ...bytes(utf8(m.clientId)), ...varint(claims.accountId)];
  input.push(...bytes(utf8(m.accountName)), ...bytes([...m.credentialSecret]));
  const context = new TextEncoder().encode("postern 2026-12 oauth token key, version 2");
  const key = blake3(new Uint8Array(input), { context, dkLen: 32 });
  const le = (n: number, size: number) =>
    Array.from({ length: size }, (_, i) => Math.floor(n / 256 ** i) % 256);
  const nonce = new Uint8Array([kind, ...le(claims.issuedAt, 5), ...le(claims.expiresAt, 6)]);
  const sealed = gcmsiv(key, nonce, new Uint8Array(clear)).encrypt(new Uint8Array(plain));
  return toBase64Url(new Uint8Array([...clear, ...sealed]));
}

Deno.test("version 2 tokens are the documented format (against @noble) and keep their bytes", () => {
  const refresh = { ...claims, kind: "refresh" as const, generation: 7, scopes: ["offline_access"] };
  const longClient = { ...material, clientId: "c".repeat(900) };
  const vectors: [TokenClaims, typeof material, string][] = [
    [claims, material, V2_VECTORS[0]],
    [refresh, longClient, V2_VECTORS[1]],
    [claims, { ...material, accountName: "élise@exämple.org" }, V2_VECTORS[2]],
  ];
  for (const [sealed, keyMaterial, token] of vectors) {
    assert.equal(referenceV2(sealed, keyMaterial), sealToken(sealed, keyMaterial));
    assert.equal(sealToken(sealed, keyMaterial), token);
    assert.equal(referenceV2(sealed, keyMaterial), token);
    assert.deepEqual(openToken(token, keyMaterial), sealed);
  }
});

Deno.test("a kept version 2 key is not used for other material: a new secret or server key, another client", () => {
  const token = sealToken(claims, material);
  assert.deepEqual(openToken(token, material), claims);
  // The same arrays, other values beside them: each is part of what the kept key was derived from.
  assert.equal(
    openToken(token, { ...material, serverKey: new TextEncoder().encode("x".repeat(64)) }),
    undefined,
  );
  assert.equal(openToken(token, { ...material, clientId: "webmail2" }), undefined);
  assert.equal(openToken(token, { ...material, accountName: "alice@example.net" }), undefined);
  const moved = sealToken({ ...claims, accountId: 18 }, material);
  const spliced = fromBase64Url(moved);
  spliced.set(fromBase64Url(token).subarray(14), 14);
  assert.equal(openToken(toBase64Url(spliced), material), undefined);
  // A token of one kind or time never opens as another (the nonce and the associated data differ).
  const access = fromBase64Url(token);
  access[1] = 2;
  assert.equal(openToken(toBase64Url(access), material), undefined);
  assert.deepEqual(openToken(token, material), claims);
});

// Version 2 tokens of the vectors above, as its first codec sealed them.
const V2_VECTORS = [
  "AgERA4D3xNUGkJPF1QbbSsoty-tgZsLYNP1wnSrxmYGR8nM",
  "AgIRA4D3xNUGkJPF1Qb6pN4WLo1J1HRGPB8wh9Xw6-k_LJI",
  "AgERA4D3xNUGkJPF1Qbn17L-ktyDU49njup1tth74qyjhP4",
];
