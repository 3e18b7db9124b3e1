/**
 * The types shared by the parts of the outbound path (the contract; mod.ts re-exports them). They
 * live apart from mod.ts so the parts can import them without importing mod.ts, which imports the
 * parts (an import cycle otherwise).
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
  /** RET given with MAIL FROM when the server offers DSN (RFC 3461 §4.3): what a bounce should carry. */
  dsnReturn?: "FULL" | "HDRS";
}

/** A relay: a fixed server for some domains instead of their MX. */
export interface Relay {
  host: string;
  port: number;
  /** starttls: refuse if not offered; tls: implicit TLS; none: plain (STARTTLS still used if offered). */
  security: "starttls" | "tls" | "none";
  username?: string | null;
  password?: string | null;
  /** The longest wait for the connection and each reply (the Smarthost's setting); none: RFC 5321's. */
  timeoutSeconds?: number;
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

/** A recipient domain's MTA-STS policy (RFC 8461 §3.2). */
export interface MtaStsPolicy {
  /** The policy's id from the _mta-sts TXT record. */
  id: string;
  mode: "enforce" | "testing" | "none";
  /** MX patterns: "mx.example.net" or "*.example.net" (one leftmost label). */
  mx: string[];
  /** Seconds the policy may be cached. */
  maxAge: number;
}

/** Where the transport learns a domain's MTA-STS policy (cached, refreshed; none when it has none). */
export interface MtaStsSource {
  policyFor(domain: string): Promise<MtaStsPolicy | null>;
}

/** One TLS outcome of an outbound connection, for TLS reporting (RFC 8460 result types). */
export interface TlsResult {
  /** The recipient domain (the policy domain). */
  domain: string;
  /** The MX host connected to or refused. */
  mx: string;
  policy: "sts" | "no-policy-found";
  /** undefined: TLS succeeded; else RFC 8460 §4.3 result type ("starttls-not-supported", "certificate-host-mismatch", "validation-failure", "sts-policy-invalid", …). */
  failure?: string;
}

/** Records TLS outcomes of outbound connections (TLS reporting). */
export interface TlsReporter {
  record(result: TlsResult): void;
}
