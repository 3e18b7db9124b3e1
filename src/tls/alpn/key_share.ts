/**
 * The server's side of the TLS 1.3 key exchange (RFC 8446 §4.2.8) in WebCrypto: an ephemeral key
 * for the client's x25519 or secp256r1 share, and the shared secret.
 */

/** Named groups answered, in order of preference. */
export const GROUPS = { x25519: 0x001d, secp256r1: 0x0017 } as const;

const X25519_PKCS8_PREFIX = Uint8Array.from([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
]);

/** Our key share for `group` and the shared secret with the client's `peer` share. */
export async function keyAgreement(
  group: number,
  peer: Uint8Array,
): Promise<{ share: Uint8Array; shared: Uint8Array }> {
  const algorithm = group === GROUPS.x25519 ? { name: "X25519" } : { name: "ECDH", namedCurve: "P-256" };
  const pair = await crypto.subtle.generateKey(algorithm, false, ["deriveBits"]) as CryptoKeyPair;
  const share = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { share, shared: await derive(algorithm, pair.privateKey, peer) };
}

/** The X25519 shared secret of a raw private key and a peer share (for tests against RFC 8448). */
export async function x25519Shared(privateRaw: Uint8Array, peer: Uint8Array): Promise<Uint8Array> {
  const pkcs8 = new Uint8Array([...X25519_PKCS8_PREFIX, ...privateRaw]);
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "X25519" }, false, ["deriveBits"]);
  return derive({ name: "X25519" }, key, peer);
}

async function derive(
  algorithm: { name: string; namedCurve?: string },
  privateKey: CryptoKey,
  peer: Uint8Array,
): Promise<Uint8Array> {
  // A share of the wrong size or not on the curve: illegal_parameter for the caller.
  const expected = algorithm.name === "X25519" ? 32 : 65;
  if (peer.length !== expected) throw new RangeError("key share of the wrong size");
  const publicKey = await crypto.subtle.importKey(
    "raw",
    peer as Uint8Array<ArrayBuffer>,
    algorithm,
    false,
    [],
  );
  return new Uint8Array(
    await crypto.subtle.deriveBits({ name: algorithm.name, public: publicKey }, privateKey, 256),
  );
}
