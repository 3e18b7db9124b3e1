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

/** The outcome of one delivery attempt for one recipient. */
export interface RecipientResult {
  /**
   * The remote server's reply with its enhanced status code ("250 2.0.0 Ok: queued as 4XyZ",
   * "550 5.1.1 <bob@example.net>: Recipient address rejected"), or one this server writes when there
   * was no reply to quote ("451 4.4.1 No answer from mx.example.net [192.0.2.1]: connection refused",
   * "550 5.1.10 example.net accepts no mail (null MX, RFC 7505)").
   */
  reply: string;
  /** delivered: 2xx at the end of DATA; temporary: 4xx or no connection (retry); permanent: 5xx (bounce). */
  kind: "delivered" | "temporary" | "permanent";
  /** The server that gave the reply, "mx.example.net [192.0.2.1]" (a DSN's Remote-MTA); none if none answered. */
  remoteMta?: string;
}

/** One message to deliver to recipients of one domain. */
export interface OutboundMessage {
  /** The envelope sender; "" is the null sender (bounces, automatic replies: RFC 3834). */
  mailFrom: string;
  /** Recipients, all of `domain`. */
  recipients: string[];
  /** The message as it goes on the wire (already DKIM-signed, no Bcc). */
  message: Uint8Array;
  /** The envelope id given with MAIL FROM when the server offers DSN (RFC 3461 ENVID). */
  envelopeId?: string;
}

/** A relay: a fixed server for some domains instead of their MX. */
export interface Relay {
  host: string;
  port: number;
  /** starttls: refuse if not offered; tls: implicit TLS; none: plain (STARTTLS still used if offered). */
  security: "starttls" | "tls" | "none";
  username?: string | null;
  password?: string | null;
}

/** How mail for one domain leaves: by its MX records, or through a relay (the smarthost or one of the table). */
export type Route = { kind: "mx" } | { kind: "relay"; relay: Relay };

/**
 * Delivers one message to recipients of one domain. It never throws for what the remote side or
 * the network does: every recipient gets a result (temporary when nothing could be tried).
 */
export interface OutboundTransport {
  deliver(
    domain: string,
    route: Route,
    message: OutboundMessage,
    signal?: AbortSignal,
  ): Promise<Record<string, RecipientResult>>;
}

// The MTA-STS and TLS-reporting contract (MtaStsPolicy, MtaStsSource, TlsResult, TlsReporter).
export type { MtaStsPolicy, MtaStsSource, TlsReporter, TlsResult } from "./mta_sts_types.ts";

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
