/**
 * Outbound mail: how a message leaves this server for another domain's server. This file is the
 * contract between its parts, read in this order:
 *
 * 1. The queue (mail/queue.ts, store/queue.ts) holds every outgoing message and the state of each
 *    recipient; a delivery worker claims a due (message, destination domain) and asks a transport.
 * 2. The transport (transport.ts) delivers one message to the recipients of one domain by the route
 *    the settings give: the domain's MX hosts (RFC 5321 §5), the smarthost, or a relay of the table.
 * 3. MTA-STS (mta_sts.ts, RFC 8461) tells the transport which MX hosts it may use and whether TLS is
 *    required; what failed is recorded for TLS reporting (RFC 8460).
 * 4. Bounces (mail/dsn.ts, RFC 3464) tell the sender what failed for good or is still delayed.
 */

export type {
  MtaStsPolicy,
  MtaStsSource,
  OutboundMessage,
  OutboundTransport,
  RecipientResult,
  Relay,
  Route,
  TlsReporter,
  TlsResult,
} from "./types.ts";

export { SmtpTransport } from "./transport.ts";
export type { SmtpTransportOptions } from "./transport.ts";
export { DEFAULT_SMTP_TIMEOUTS } from "./smtp_timeouts.ts";
export type { SmtpTimeouts } from "./smtp_timeouts.ts";
export { isHostName, mxHostsOf } from "./mx.ts";
export type { MxHost, MxResolver } from "./mx.ts";

// MTA-STS policies of recipient domains (RFC 8461) and TLS reporting (RFC 8460).
export { MtaStsCache } from "./mta_sts.ts";
export type { MtaStsCacheDeps } from "./mta_sts.ts";
export { httpsPolicyFetcher, MAX_POLICY_BYTES } from "./mta_sts_fetch.ts";
export type { PolicyFetcher, PolicyFetchOptions } from "./mta_sts_fetch.ts";
export { MtaStsError, mxMatchesPolicy, parsePolicy, parseStsTxt } from "./mta_sts_policy.ts";
export { TlsReportRecorder, utcDay } from "./tls_report.ts";
export type { TlsReportRecorderDeps } from "./tls_report.ts";
export { KEEP_DAYS, REPORT_CLAIM_MS, TlsReportSender } from "./tls_report_send.ts";
export type { ReportMessage, TlsReportSenderDeps } from "./tls_report_send.ts";
export { reportAddresses, tlsReport } from "./tls_report_json.ts";
export type { ReportSubmitter } from "./tls_report_json.ts";
