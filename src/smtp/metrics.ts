/** Counters of the MX for /metrics. */
import type { MetricSample } from "../http/mod.ts";
import type { RefusalReason } from "./replies.ts";

/** Connections, accepted messages and refusals by reason. */
export class SmtpMetrics {
  connectionsTotal = 0;
  connections = 0;
  messagesAccepted = 0;
  readonly refusals = new Map<RefusalReason, number>();

  /** Counts one refusal. */
  refused(reason: RefusalReason): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  /** The samples /metrics renders. */
  samples(): MetricSample[] {
    return [
      {
        name: "postern_smtp_connections_total",
        help: "SMTP sessions opened",
        type: "counter",
        value: this.connectionsTotal,
      },
      {
        name: "postern_smtp_connections",
        help: "SMTP sessions open",
        type: "gauge",
        value: this.connections,
      },
      {
        name: "postern_smtp_messages_accepted_total",
        help: "Messages stored and acknowledged with 250 by the MX",
        type: "counter",
        value: this.messagesAccepted,
      },
      ...[...this.refusals].map(([reason, value]): MetricSample => ({
        name: "postern_smtp_refusals_total",
        help: "SMTP commands and messages refused, by reason",
        type: "counter",
        labels: { reason },
        value,
      })),
    ];
  }
}
