/**
 * What a serving process adds to /metrics beside the HTTP figures (src/server.ts): its listeners', the
 * database's, the read workers', the queue's; and, with several processes, the others' own series.
 */
import type { ImapMetrics } from "./imap/mod.ts";
import type { ConnectionStats, MetricSample } from "./http/mod.ts";
import type { Services } from "./services.ts";
import type { SmtpMetrics } from "./smtp/mod.ts";
import { SERVER_HEARTBEAT_MS, type StoreCounts } from "./store/mod.ts";
import type { AcmeCertificates } from "./tls/mod.ts";

/**
 * Metric families read from the database: each process would report the same values, so with several
 * processes they appear once, from the one answering the scrape.
 */
export const DATABASE_METRICS: ReadonlySet<string> = new Set([
  "postern_mailboxes",
  "postern_emails",
  "postern_login_failures_last_hour",
  "postern_database_bytes",
  "postern_login_throttled_keys",
  "postern_queue_recipients",
  "postern_queue_active_messages",
  "postern_queue_oldest_age_seconds",
]);

/** How long a scrape waits for a sibling process's figures before leaving them out. */
const SIBLING_METRICS_TIMEOUT_MS = 2_000;

/** Where this process's own figures come from. */
export interface MetricSources {
  connectionStats?: ConnectionStats[];
  smtpMetrics?: SmtpMetrics;
  imapMetrics?: ImapMetrics;
  acme?: AcmeCertificates;
  /** Shared accounts the JMAP sessions left out (stale grants), since the start. */
  skippedSessionAccounts: () => number;
}

/** This process's samples beside the HTTP figures, read at each scrape. */
export function processMetrics(services: Services, sources: MetricSources): () => Promise<MetricSample[]> {
  return async () => [
    ...(sources.smtpMetrics?.samples() ?? []),
    ...(sources.imapMetrics?.samples() ?? []),
    ...(sources.acme?.renewer.samples() ?? []),
    ...services.tlsReports.samples(),
    ...storeGauges(await services.store.activity.counts()),
    ...readWorkerSamples(services.store.readWorkers),
    ...services.deliveryMetrics.samples(await services.store.queue.stats()),
    {
      name: "postern_login_failures_last_hour",
      help: "Wrong passwords (Basic and sign-in pages) in the last hour, in every process on this database",
      type: "gauge",
      value: await services.store.activity.loginFailuresSince(Date.now() - 3_600_000),
    },
    {
      name: "postern_database_bytes",
      help: "Size of the database file",
      type: "gauge",
      value: services.store.sizeBytes(),
    },
    {
      name: "postern_session_skipped_accounts_total",
      help: "Shared accounts left out of sessions because they no longer exist (stale grants)",
      type: "counter",
      value: sources.skippedSessionAccounts(),
    },
    ...(sources.connectionStats?.flatMap((stats) => stats.samples()) ?? []),
    {
      name: "postern_login_throttled_keys",
      help: "Client addresses and accounts currently delayed after failed logins",
      type: "gauge",
      value: (await services.limiter.stats()).blocked,
    },
  ];
}

/** Gauges of what the database holds. */
function storeGauges(counts: StoreCounts): MetricSample[] {
  return [
    { name: "postern_mailboxes", help: "Mailboxes of every account", type: "gauge", value: counts.mailboxes },
    { name: "postern_emails", help: "Emails of every account", type: "gauge", value: counts.messages },
  ];
}

/** The read workers' figures (src/store/read_pool.ts), when the store has them. */
function readWorkerSamples(stats: Services["store"]["readWorkers"]): MetricSample[] {
  if (!stats) return [];
  return [
    {
      name: "postern_read_workers",
      help: "Read worker threads of this process",
      type: "gauge",
      value: stats.size,
    },
    {
      name: "postern_read_worker_jobs_total",
      help: "Queries answered by read workers",
      type: "counter",
      value: stats.jobs,
    },
    {
      name: "postern_read_workers_replaced_total",
      help: "Read workers ended and replaced after they crashed or hung",
      type: "counter",
      value: stats.replaced,
    },
  ];
}

/**
 * What the other serving processes on this database report of their own (`/metrics?scope=process` on
 * each one's internal loopback server, registered in the servers table); one that does not answer in
 * time is left out of this scrape.
 */
export async function siblingMetrics(services: Services, self: number | undefined): Promise<string[]> {
  const running = await services.store.servers.running(Date.now() - 3 * SERVER_HEARTBEAT_MS);
  const texts = await Promise.all(
    running.filter((row) => row.id !== self && row.internalUrl).map(async (row) => {
      try {
        const response = await fetch(`${row.internalUrl}/metrics?scope=process`, {
          signal: AbortSignal.timeout(SIBLING_METRICS_TIMEOUT_MS),
        });
        return response.ok ? await response.text() : "";
      } catch {
        return "";
      }
    }),
  );
  return texts.filter((text) => text !== "");
}
