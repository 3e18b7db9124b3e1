/**
 * Counters of the SMTP listeners (MX and submission) for /metrics. The listeners share one
 * SmtpMetrics; connections and refusals are kept per listener and carry its name as the `listener`
 * label (mx, submission, submissions), the rest belongs to one listener by its nature.
 */
import type { MetricSample } from "../http/mod.ts";
import type { RefusalReason } from "./replies.ts";

/** The `listener` label: the MX (25), submission with STARTTLS (587), with implicit TLS (465). */
export type SmtpListenerName = "mx" | "submission" | "submissions";

/** What one listener counts: its sessions and its refusals by reason. */
export class ListenerCounters {
  connectionsTotal = 0;
  connections = 0;
  readonly refusals = new Map<RefusalReason, number>();

  /** Counts one refusal. */
  refused(reason: RefusalReason): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }
}

/**
 * The stages of a message the MX accepted: `receive` (DATA until its final dot), `authenticate`
 * (SPF, DKIM, DMARC and ARC, the wait for a worker included), `store` (until its transaction
 * committed, the wait for its group commit's batch included).
 */
export type MessageStage = "receive" | "authenticate" | "store";

/** Connections and refusals per listener, accepted and submitted messages, AUTH and check results. */
export class SmtpMetrics {
  readonly #listeners = new Map<SmtpListenerName, ListenerCounters>();
  messagesAccepted = 0;
  /** Seconds the accepted messages spent in each stage, summed (divided by messagesAccepted: a mean). */
  readonly stageSeconds = new Map<MessageStage, number>([["receive", 0], ["authenticate", 0], ["store", 0]]);
  /** Results of the authentication checks, keyed "method result" (spf pass, dmarc fail…). */
  readonly authResults = new Map<string, number>();
  /** Messages filed in Junk for at least one recipient because they failed DMARC. */
  dmarcQuarantined = 0;
  /** Messages submitted by authenticated clients (587, 465), recorded as EmailSubmissions. */
  messagesSubmitted = 0;
  /**
   * AUTH attempts by "mechanism outcome"; "revoked" counts a session whose credential stopped
   * working after a successful AUTH (found at the next MAIL FROM).
   */
  readonly authentications = new Map<string, number>();

  /** Counts one AUTH attempt. */
  authenticated(
    mechanism: string,
    outcome: "success" | "failure" | "rateLimited" | "error" | "revoked",
  ): void {
    const key = `${mechanism} ${outcome}`;
    this.authentications.set(key, (this.authentications.get(key) ?? 0) + 1);
  }

  /** The counters of the listener `name` (made, with zeros on /metrics, by its first use). */
  listener(name: SmtpListenerName): ListenerCounters {
    let counters = this.#listeners.get(name);
    if (!counters) this.#listeners.set(name, counters = new ListenerCounters());
    return counters;
  }

  /** Counts one accepted message with the milliseconds it spent in each stage. */
  accepted(stagesMs: Record<MessageStage, number>): void {
    this.messagesAccepted++;
    for (const [stage, ms] of Object.entries(stagesMs) as [MessageStage, number][]) {
      this.stageSeconds.set(stage, (this.stageSeconds.get(stage) ?? 0) + ms / 1000);
    }
  }

  /** Counts the results of one received message's checks (see mail/authentication.ts). */
  checked(results: Record<string, string>, quarantined: boolean): void {
    for (const [method, result] of Object.entries(results)) {
      const key = `${method} ${result}`;
      this.authResults.set(key, (this.authResults.get(key) ?? 0) + 1);
    }
    if (quarantined) this.dmarcQuarantined++;
  }

  /** The samples /metrics renders. */
  samples(): MetricSample[] {
    const listeners = [...this.#listeners];
    return [
      ...listeners.map(([listener, counters]): MetricSample => ({
        name: "postern_smtp_connections_total",
        help: "SMTP sessions opened, by listener",
        type: "counter",
        labels: { listener },
        value: counters.connectionsTotal,
      })),
      ...listeners.map(([listener, counters]): MetricSample => ({
        name: "postern_smtp_connections",
        help: "SMTP sessions open, by listener",
        type: "gauge",
        labels: { listener },
        value: counters.connections,
      })),
      {
        name: "postern_smtp_messages_accepted_total",
        help: "Messages stored and acknowledged with 250 by the MX",
        type: "counter",
        value: this.messagesAccepted,
      },
      ...[...this.stageSeconds].map(([stage, value]): MetricSample => ({
        name: "postern_smtp_message_stage_seconds_total",
        help: "Seconds the messages the MX accepted spent receiving DATA, in the authentication checks " +
          "and storing, summed by stage (over postern_smtp_messages_accepted_total: the mean)",
        type: "counter",
        labels: { stage },
        value,
      })),
      {
        name: "postern_smtp_dmarc_quarantined_total",
        help: "Messages filed in Junk because they failed the DMARC policy of their From domain",
        type: "counter",
        value: this.dmarcQuarantined,
      },
      ...[...this.authResults].map(([key, value]): MetricSample => {
        const [method, result] = key.split(" ");
        return {
          name: "postern_smtp_auth_results_total",
          help: "Authentication results of received messages, by method (spf, dkim, dmarc, arc) and result",
          type: "counter",
          labels: { method, result },
          value,
        };
      }),
      {
        name: "postern_smtp_messages_submitted_total",
        help: "Messages submitted on 587 or 465, recorded and acknowledged with 250",
        type: "counter",
        value: this.messagesSubmitted,
      },
      ...[...this.authentications].map(([key, value]): MetricSample => {
        const [mechanism, outcome] = key.split(" ");
        return {
          name: "postern_smtp_auth_total",
          help: "SMTP AUTH attempts by mechanism and outcome (revoked: the credential stopped working later)",
          type: "counter",
          labels: { mechanism, outcome },
          value,
        };
      }),
      ...listeners.flatMap(([listener, counters]) =>
        [...counters.refusals].map(([reason, value]): MetricSample => ({
          name: "postern_smtp_refusals_total",
          help: "SMTP commands and messages refused, by listener and reason",
          type: "counter",
          labels: { listener, reason },
          value,
        }))
      ),
    ];
  }
}
