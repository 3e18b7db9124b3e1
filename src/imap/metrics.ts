/**
 * Counters of the IMAP listeners for /metrics: sessions per listener (imap on 143, imaps on 993),
 * refused connections by reason, logins by mechanism and outcome, commands by name and status, and
 * the IMAP mail service's shared mailbox views (hits, refreshes, full loads, evictions, bytes kept).
 */
import type { MetricSample } from "../http/mod.ts";
import type { ImapViewStats } from "../mail/mod.ts";

/** The `listener` label: 143 with STARTTLS, 993 with implicit TLS. */
export type ImapListenerName = "imap" | "imaps";

/** How a login ended ("revoked": the credential stopped working later in the session). */
export type LoginOutcome = "success" | "failure" | "rateLimited" | "error" | "revoked";

const inc = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);

/** What the IMAP listeners count. */
export class ImapMetrics {
  readonly connectionsTotal = new Map<ImapListenerName, number>();
  readonly connections = new Map<ImapListenerName, number>();
  /** Connections closed at once, by reason (tooManyConnections, tooManyFromAddress, loginTimeout…). */
  readonly refusals = new Map<string, number>();
  readonly logins = new Map<string, number>();
  readonly commands = new Map<string, number>();

  /** `views`: the counters of the mail service's mailbox views (src/mail/imap_views.ts), when wired. */
  constructor(private readonly views?: () => ImapViewStats) {}

  /** Counts a session opened on `listener`. */
  opened(listener: ImapListenerName): void {
    inc(this.connectionsTotal, listener);
    this.connections.set(listener, (this.connections.get(listener) ?? 0) + 1);
  }

  /** Counts a session closed on `listener`. */
  closed(listener: ImapListenerName): void {
    this.connections.set(listener, (this.connections.get(listener) ?? 1) - 1);
  }

  /** Counts a connection ended by a limit. */
  refused(reason: string): void {
    inc(this.refusals, reason);
  }

  /** Counts a LOGIN or AUTHENTICATE. */
  login(mechanism: string, outcome: LoginOutcome): void {
    inc(this.logins, `${mechanism} ${outcome}`);
  }

  /** Counts a command answered with `status`. */
  command(name: string, status: string): void {
    inc(this.commands, `${name} ${status}`);
  }

  /** The samples /metrics renders. */
  samples(): MetricSample[] {
    const split = (key: string) => key.split(" ") as [string, string];
    return [
      ...this.#viewSamples(),
      ...[...this.connectionsTotal].map(([listener, value]): MetricSample => ({
        name: "postern_imap_connections_total",
        help: "IMAP sessions opened, by listener",
        type: "counter",
        labels: { listener },
        value,
      })),
      ...[...this.connections].map(([listener, value]): MetricSample => ({
        name: "postern_imap_connections",
        help: "IMAP sessions open, by listener",
        type: "gauge",
        labels: { listener },
        value,
      })),
      ...[...this.refusals].map(([reason, value]): MetricSample => ({
        name: "postern_imap_refusals_total",
        help: "IMAP sessions ended by a limit, by reason",
        type: "counter",
        labels: { reason },
        value,
      })),
      ...[...this.logins].map(([key, value]): MetricSample => {
        const [mechanism, outcome] = split(key);
        return {
          name: "postern_imap_logins_total",
          help:
            "IMAP LOGIN and AUTHENTICATE by mechanism and outcome (revoked: the credential stopped working later)",
          type: "counter",
          labels: { mechanism, outcome },
          value,
        };
      }),
      ...[...this.commands].map(([key, value]): MetricSample => {
        const [command, status] = split(key);
        return {
          name: "postern_imap_commands_total",
          help: "IMAP commands by name and the status they were answered with",
          type: "counter",
          labels: { command, status },
          value,
        };
      }),
    ];
  }

  #viewSamples(): MetricSample[] {
    const stats = this.views?.();
    if (!stats) return [];
    const events = {
      hit: stats.hits,
      refresh: stats.refreshes,
      load: stats.loads,
      eviction: stats.evictions,
    };
    return [
      ...Object.entries(events).map(([event, value]): MetricSample => ({
        name: "postern_imap_views_total",
        help:
          "Shared IMAP mailbox views: used as kept (hit), brought up to date (refresh), read whole (load), evicted",
        type: "counter",
        labels: { event },
        value,
      })),
      {
        name: "postern_imap_views",
        help: "Shared IMAP mailbox views kept",
        type: "gauge",
        labels: {},
        value: stats.views,
      },
      {
        name: "postern_imap_view_bytes",
        help: "Estimated bytes held by the shared IMAP mailbox views",
        type: "gauge",
        labels: {},
        value: stats.bytes,
      },
    ];
  }
}
