/**
 * The self-signed certificate of a TLS-ALPN-01 answer (RFC 8737 §3): the validated name as its only
 * subjectAltName and the critical id-pe-acmeIdentifier extension holding SHA-256 of the key
 * authorization. ECDSA P-256, so the handshake signs CertificateVerify with the same WebCrypto key.
 */
import * as x509 from "@peculiar/x509";
import { sha256 } from "@noble/hashes/sha2.js";

/** id-pe-acmeIdentifier (RFC 8737 §6.1). */
export const ACME_IDENTIFIER_OID = "1.3.6.1.5.5.7.1.31";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

/** A certificate (DER) and the key that signs for it. */
export interface AlpnCertificate {
  der: Uint8Array;
  privateKey: CryptoKey;
}

/** Makes the challenge certificate for `name` and its key authorization. */
export async function alpnCertificate(name: string, keyAuthorization: string): Promise<AlpnCertificate> {
  const keys = await crypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]) as CryptoKeyPair;
  const digest = sha256(new TextEncoder().encode(keyAuthorization));
  // The extension's value: Authorization ::= OCTET STRING (SIZE (32)).
  const value = new Uint8Array([0x04, 0x20, ...digest]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01" +
      Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0"))
        .join(""),
    name: `CN=${name}`,
    notBefore: new Date(now - 24 * 3600_000),
    notAfter: new Date(now + 7 * 24 * 3600_000),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: name }]),
      new x509.Extension(ACME_IDENTIFIER_OID, true, value),
    ],
  });
  return { der: new Uint8Array(cert.rawData), privateKey: keys.privateKey };
}

/** A WebCrypto ECDSA signature (r || s) as TLS sends it: DER Ecdsa-Sig-Value (RFC 8446 §4.2.3). */
export function derSignature(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = bytes.subarray(start);
    const body = trimmed[0] & 0x80 ? [0, ...trimmed] : [...trimmed];
    return [0x02, body.length, ...body];
  };
  const half = raw.length / 2;
  const content = [...integer(raw.subarray(0, half)), ...integer(raw.subarray(half))];
  return Uint8Array.from([0x30, content.length, ...content]);
}
