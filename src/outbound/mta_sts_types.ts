/**
 * The MTA-STS and TLS-reporting part of the outbound contract (re-exported by mod.ts, where the
 * rest of the contract is): kept in its own file so the implementations can import it without an
 * import cycle through mod.ts.
 */

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
