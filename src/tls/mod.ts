/** TLS certificates: ordered and renewed with ACME, stored sealed, read by every listener. */
export { type AcmeCertificates, acmeCertificates, type AcmeSettings } from "./acme_certificates.ts";
export { AcmeOrderer, alpnChallengeKey, type OrderedCertificate } from "./acme_orderer.ts";
export {
  ACME_TLS_ALPN,
  acmeAlpnResponder,
  type ConnectionIntercept,
  type PendingAlpnChallenge,
} from "./alpn/alpn_responder.ts";
export {
  CertificateRenewer,
  ORDER_CLAIM_MS,
  RENEW_BEFORE_MS,
  type RenewalOutcome,
  RETRY_FIRST_MS,
  SERVER_CERTIFICATE,
} from "./certificate_renewer.ts";
export { selfSignedCertificate } from "./self_signed.ts";
export { StoredTlsSource, type TlsFiles } from "./stored_tls_source.ts";
export { mtaStsNames, type MtaStsNameSources } from "./mta_sts_names.ts";
