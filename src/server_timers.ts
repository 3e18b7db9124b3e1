/**
 * The timers of a serving process (src/server.ts): housekeeping in process 0 only, the senders in
 * every process. Each timer only wakes claimable work: every job is claimed in the database (a lease
 * or a row) before it runs, so two processes, or a tick while the last run still goes on, never do it
 * twice; a database held by another process is retried with backoff and logged once
 * (model/background.ts).
 */
import type { Logger } from "@logtape/logtape";
import type { Config } from "./config/mod.ts";
import { type BackgroundTask, backgroundTask, BUSY_RETRY_MAX_MS } from "./model/background.ts";
import type { Services } from "./services.ts";
import { DnsResolver } from "./dns/mod.ts";
import { TlsReportSender } from "./outbound/mod.ts";

/** The timers of one process, and how to add one and stop them all. */
export interface ServerTimers {
  /** Runs `work` every `ms` in this process (retried with backoff when the database is busy). */
  every(
    ms: number,
    name: string,
    work: () => unknown,
  ): { task: BackgroundTask; timer: ReturnType<typeof setInterval> };
  /** The due submissions' sender: a shutdown lets its batch under way finish. */
  sending: BackgroundTask;
  /** Clears every timer and stops every task (a run under way goes on). */
  stop(): void;
}

/** Starts the timers of a serving process; `first` is process 0, which does the housekeeping. */
export function startServerTimers(
  config: Config,
  services: Services,
  first: boolean,
  log: Logger,
): ServerTimers {
  const timers: { task: BackgroundTask; timer: ReturnType<typeof setInterval> }[] = [];
  const every = (ms: number, name: string, work: () => unknown) => {
    const retry = { firstRetryMs: Math.min(1000, ms), maxRetryMs: Math.min(BUSY_RETRY_MAX_MS, ms) };
    const task = backgroundTask(name, work, { log, ...retry });
    const timer = setInterval(() => void task.run(), ms);
    timers.push({ task, timer });
    return { task, timer };
  };
  // Housekeeping runs in process 0 only: each would be safe twice, but N processes would do it N times.
  const housekeeping = (ms: number, name: string, work: () => unknown) => {
    if (first) every(ms, name, work);
  };
  housekeeping(60 * 60 * 1000, "Pruning the invalidation log", () => services.pruneInvalidations());
  housekeeping(60 * 60 * 1000, "Pruning OAuth rows", () => services.oauth.prune());
  housekeeping(60 * 60 * 1000, "Pruning expired MTA-STS policies", () => services.mtaSts.prune());
  // Every ten minutes: an upload counts against its account's quota until it is collected, and a
  // collection only looks at the blobs that lost their last link.
  housekeeping(10 * 60 * 1000, "Collecting unused blobs", () => services.blobs.collect());
  // After a migration that changed the full-text index: a batch of emails into the new one each tick
  // (claimed in the database; the old index serves until the new one holds every email).
  housekeeping(500, "Rebuilding the full-text index", async () => {
    if (await services.searchRebuild.pending()) await services.searchRebuild.runBatch();
  });
  // Submissions held for a later sendAt go out when their time comes. The timer only wakes the worker:
  // each submission is claimed in the database before it is sent (see mail/submissions.ts), and a tick
  // while the last one still runs (or waits for a busy database) is skipped rather than started beside it.
  const sending = every(1000, "Sending due submissions", () => services.submissions.sendDue()).task;
  // The outbound queue: each tick claims due work within the caps and lets it run (a delivery may
  // outlast a tick); a lease in the database, not this timer, keeps it from being done twice.
  services.queue.continuous = true;
  every(1000, "Delivering queued mail", () => services.queue.runDue(Date.now(), { wait: false }));
  // Finished queued messages past x:Outbound keepFinishedSeconds are deleted (one statement per batch).
  housekeeping(10 * 60 * 1000, "Purging finished queued mail", () => services.queue.purge(Date.now()));
  // TLS reports (RFC 8460) of finished days, to each domain that asks for them: claimed in the
  // database, so of several processes one mails each report.
  const tlsReports = tlsReportSender(config, services);
  housekeeping(60 * 60 * 1000, "Mailing TLS reports", () => tlsReports.sendDue());
  return {
    every,
    sending,
    stop() {
      services.queue.continuous = false;
      for (const { task, timer } of timers) {
        clearInterval(timer);
        task.stop();
      }
    },
  };
}

/** Mails the daily TLS reports from postmaster of the server's domain, through the outbound queue. */
function tlsReportSender(config: Config, services: Services): TlsReportSender {
  const host = config.mailHost ?? config.domain;
  const postmaster = `postmaster@${config.domain}`;
  return new TlsReportSender({
    store: services.store.mtaSts,
    resolver: new DnsResolver({ servers: config.dnsServers }),
    send: async ({ mailFrom, recipients, message }) =>
      void await services.outboundQueue.report(mailFrom, recipients, message),
    submitter: { organization: host, host, contact: postmaster },
    from: postmaster,
  });
}
