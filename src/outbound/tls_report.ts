/**
 * TLS reporting of outbound connections (RFC 8460): each outcome the transport reports is counted
 * in the database per recipient (policy) domain, UTC day, policy type, MX host and result, the
 * figures of a daily aggregate report (§4); a failure is also logged as a warning, and
 * `postern_outbound_tls_total{result}` counts this process's outcomes for /metrics.
 */
import { getLogger } from "@logtape/logtape";
import type { MetricSample } from "../http/mod.ts";
import type { MtaStsRepository } from "../store/mod.ts";
import type { TlsReporter, TlsResult } from "./types.ts";

const log = getLogger(["postern", "outbound", "tls"]);

/** What the recorder uses. */
export interface TlsReportRecorderDeps {
  store: Pick<MtaStsRepository, "countTls">;
  /** The clock, in milliseconds (tests move it). */
  now?: () => number;
}

/** The TlsReporter of the server. */
export class TlsReportRecorder implements TlsReporter {
  readonly #deps: TlsReportRecorderDeps;
  readonly #counts = new Map<string, number>();

  constructor(deps: TlsReportRecorderDeps) {
    this.#deps = deps;
  }

  /** Counts one outcome; never throws (a failed count is logged: delivery goes on). */
  record(result: TlsResult): void {
    const outcome = result.failure ?? "success";
    this.#counts.set(outcome, (this.#counts.get(outcome) ?? 0) + 1);
    const domain = result.domain.toLowerCase().replace(/\.$/, "");
    if (result.failure) {
      log.warn("Outbound TLS to {domain} via {mx} failed: {failure} (policy {policy})", {
        domain,
        mx: result.mx || "(no MX reached)",
        failure: result.failure,
        policy: result.policy,
      });
    }
    try {
      this.#deps.store.countTls({
        domain,
        day: utcDay((this.#deps.now ?? Date.now)()),
        policy: result.policy,
        mx: result.mx.toLowerCase().replace(/\.$/, ""),
        result: result.failure ?? "",
      });
    } catch (error) {
      log.error("TLS outcome for {domain} not counted: {error}", { domain, error: (error as Error).message });
    }
  }

  /** `postern_outbound_tls_total{result}`: this process's outcomes ("success" or the failure type). */
  samples(): MetricSample[] {
    return [...this.#counts].map(([result, value]) => ({
      name: "postern_outbound_tls_total",
      help: "Outbound TLS outcomes by RFC 8460 result type (success when TLS was negotiated as required)",
      type: "counter" as const,
      labels: { result },
      value,
    }));
  }
}

/** The UTC day of a time, YYYY-MM-DD (an RFC 8460 report covers one). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
