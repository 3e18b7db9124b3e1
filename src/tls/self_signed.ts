/**
 * A self-signed certificate for the time before the first ACME order succeeds: listeners start at
 * once (STARTTLS offered, HTTPS answering) and switch to the issued certificate at the next
 * handshake. Made with @peculiar/x509 on WebCrypto keys.
 */
import * as x509 from "@peculiar/x509";
import type { TlsFiles } from "./stored_tls_source.ts";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

/** A certificate for `domains` valid for a week from `now`, and its key, as PEM. */
export async function selfSignedCertificate(domains: string[], now = Date.now()): Promise<TlsFiles> {
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Array.from(
      crypto.getRandomValues(new Uint8Array(8)),
      (b) => b.toString(16).padStart(2, "0"),
    )
      .join("").replace(/^[89a-f]/, "1"),
    name: `CN=${domains[0]}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 7 * 24 * 3600_000),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.SubjectAlternativeNameExtension(domains.map((value) => ({ type: "dns" as const, value }))),
    ],
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const body = btoa(String.fromCharCode(...pkcs8)).replace(/.{64}/g, "$&\n").trimEnd();
  return {
    cert: cert.toString("pem"),
    key: `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`,
  };
}
