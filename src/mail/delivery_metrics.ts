/**
 * The outbound queue on /metrics: how many recipients are in it by state, how many messages are
 * still to deliver and how old the oldest of them is (read from the database at scrape time, so every process on one database
 * shows the same figures), and deliveries by result, counted by the delivery workers of this process.
 */
import type { MetricSample } from "../http/mod.ts";
import type { OutboundTransport, RecipientResult } from "../outbound/mod.ts";
import type { QueueStats } from "../store/mod.ts";

/** Counts delivery results; the queue's workers call `record` once per recipient attempt. */
export class DeliveryMetrics {
  readonly #results = new Map<RecipientResult["kind"], number>([
    ["delivered", 0],
    ["temporary", 0],
    ["permanent", 0],
  ]);

  /** Counts the result of one delivery attempt to `count` recipients (delivered, temporary or permanent). */
  record(kind: RecipientResult["kind"], count = 1): void {
    this.#results.set(kind, (this.#results.get(kind) ?? 0) + count);
  }

  /** Counts every result of one attempt, as the transport answered it. */
  recordAll(results: Record<string, RecipientResult>): void {
    for (const result of Object.values(results)) this.record(result.kind);
  }

  /** `transport`, with every result it answers counted here (what the queue's worker is given). */
  counting(transport: OutboundTransport): OutboundTransport {
    return {
      deliver: async (domain, route, message, signal) => {
        const results = await transport.deliver(domain, route, message, signal);
        this.recordAll(results);
        return results;
      },
    };
  }

  /** The samples /metrics renders: the queue's figures `stats`, taken at `now`, and the counters. */
  samples(stats: QueueStats, now = Date.now()): MetricSample[] {
    return [
      ...Object.entries(stats.recipients).map(([state, value]): MetricSample => ({
        name: "postern_queue_recipients",
        help: "Recipients in the outbound queue, by state (queued, deferred, delivered, failed, canceled)",
        type: "gauge",
        labels: { state },
        value,
      })),
      {
        name: "postern_queue_active_messages",
        help: "Messages in the outbound queue with a recipient still to deliver (queued or deferred)",
        type: "gauge",
        value: stats.activeMessages,
      },
      {
        name: "postern_queue_oldest_age_seconds",
        help: "Age of the oldest message in the outbound queue with a recipient still to deliver (0: none)",
        type: "gauge",
        value: stats.oldestActiveAt === null
          ? 0
          : Math.max(0, Math.round((now - stats.oldestActiveAt) / 1000)),
      },
      ...[...this.#results].map(([result, value]): MetricSample => ({
        name: "postern_queue_deliveries_total",
        help:
          "Delivery attempts by recipient and result: delivered (2xx), temporary (4xx or no connection), permanent (5xx)",
        type: "counter",
        labels: { result },
        value,
      })),
    ];
  }
}
