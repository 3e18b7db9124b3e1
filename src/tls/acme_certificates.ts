/**
 * The ACME certificate of `postern serve`, wired once: the orderer (acme-client), the renewer (claimed
 * work in the database) and the TLS source every listener reads, over the certificate store, with
 * private keys sealed under the server's encryption key.
 */
import { textSealer } from "../oauth/mod.ts";
import type { CertificateRepository } from "../store/mod.ts";
import { AcmeOrderer, alpnChallengeKey } from "./acme_orderer.ts";
import { CertificateRenewer, type RenewalLog, SERVER_CERTIFICATE } from "./certificate_renewer.ts";
import { selfSignedCertificate } from "./self_signed.ts";
import { StoredTlsSource } from "./stored_tls_source.ts";

/** The purpose of the key that seals certificate and ACME account keys. */
const SEAL_CONTEXT = "postern 2026-12 tls private key seal";

/** How certificates are ordered (the resolved --acme-* flags). */
export interface AcmeSettings {
  directoryUrl: string;
  email: string | undefined;
  domains: string[];
  /** PEM roots trusted for the directory besides the system's. */
  caCerts?: string[];
  /** The challenge type answered (default http-01). */
  challenge?: "http-01" | "tls-alpn-01";
  /** Retries of unanswered requests (see AcmeOrderOptions). */
  retries?: { attempts: number; delaySeconds: number };
  /** Names added at each renewal check (mta-sts.DOMAIN, see mta_sts_names.ts). */
  extraNames?: () => Promise<string[]>;
}

/** The renewer, the listeners' source and the challenge answers of one server certificate. */
export interface AcmeCertificates {
  renewer: CertificateRenewer;
  /**
   * A new source of the stored certificate for one listener (each tracks what it last served, so
   * every listener learns of a renewal).
   */
  source(): StoredTlsSource;
  /** The HTTP-01 key authorization of a pending token. */
  challenge(token: string): Promise<string | undefined>;
  /** The TLS-ALPN-01 key authorization of a name being validated. */
  alpnChallenge(name: string): Promise<string | undefined>;
}

/** Builds the ACME certificate machinery over the store. */
export function acmeCertificates(
  repository: CertificateRepository,
  options: { encryptionKey: Uint8Array; acme: AcmeSettings; log: RenewalLog; now?: () => number },
): AcmeCertificates {
  const sealer = textSealer(options.encryptionKey, SEAL_CONTEXT);
  const now = options.now ?? Date.now;
  const orderer = new AcmeOrderer(repository, sealer, options.acme);
  const renewer = new CertificateRenewer({
    repository,
    sealer,
    order: (domains) => orderer.order(domains),
    domains: options.acme.domains,
    extraNames: options.acme.extraNames,
    log: options.log,
    now,
  });
  let placeholder: ReturnType<typeof selfSignedCertificate> | undefined;
  const source = () =>
    new StoredTlsSource(repository, {
      name: SERVER_CERTIFICATE,
      sealer,
      fallback: () => placeholder ??= selfSignedCertificate(options.acme.domains, now()),
    });
  return {
    renewer,
    source,
    challenge: (token) => repository.challenge(token, Date.now()),
    alpnChallenge: (name) => repository.challenge(alpnChallengeKey(name), Date.now()),
  };
}
