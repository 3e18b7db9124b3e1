/**
 * Background work (timers) that must outlive a busy database: another process (a large `postern apply`,
 * `db check --repair`) may hold SQLite's write lock for longer than the busy timeout.
 */
import { UnavailableError } from "./errors.ts";

/**
 * How long a write waits for SQLite's write lock held by another process before it fails (503,
 * `serverUnavailable`). SQLite waits in the calling thread, so this is also how long such a write can
 * hold up the server's other requests. Set with POSTERN_BUSY_TIMEOUT_MS.
 */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** The longest busy timeout accepted: past it, waiting blocks the event loop more than it helps. */
export const MAX_BUSY_TIMEOUT_MS = 60_000;

/** First wait before a busy task tries again; it doubles up to {@link BUSY_RETRY_MAX_MS}. */
export const BUSY_RETRY_FIRST_MS = 1000;
/** Longest wait between two tries of a task the database keeps refusing. */
export const BUSY_RETRY_MAX_MS = 60_000;

/** The part of a logger a task reports through (logtape's Logger fits). */
export interface TaskLog {
  info(message: string, properties: Record<string, unknown>): void;
  warn(message: string, properties: Record<string, unknown>): void;
}

/** A task run by a timer: one run at a time, never a rejection, retried with backoff while busy. */
export interface BackgroundTask {
  /** Runs the task unless a run or a retry is already pending; resolves when that run settles. */
  run(): Promise<void>;
  /** Cancels a pending retry; later runs do nothing. */
  stop(): void;
}

/** Options of {@link backgroundTask}. */
export interface BackgroundTaskOptions {
  log: TaskLog;
  firstRetryMs?: number;
  maxRetryMs?: number;
}

/**
 * Wraps `work` (sync or async) for a timer. A busy database (UnavailableError) is logged once, then the
 * task retries after 1 s, 2 s, 4 s… (capped) until it succeeds, which is logged too; any other failure
 * is logged and left to the next tick. Neither a throw nor a rejection escapes, so no timer can take
 * the process down.
 */
export function backgroundTask(
  name: string,
  work: () => unknown,
  options: BackgroundTaskOptions,
): BackgroundTask {
  const { log } = options;
  const first = options.firstRetryMs ?? BUSY_RETRY_FIRST_MS;
  const max = options.maxRetryMs ?? BUSY_RETRY_MAX_MS;
  let running: Promise<void> | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let busySince: number | undefined;
  let attempts = 0;
  let stopped = false;

  const attempt = async (): Promise<void> => {
    try {
      await work();
      if (busySince !== undefined) {
        log.info("{task} done after the database was busy for {seconds} s ({attempts} tries)", {
          task: name,
          seconds: Math.round((Date.now() - busySince) / 1000),
          attempts: attempts + 1,
        });
      }
      busySince = undefined;
      attempts = 0;
    } catch (error) {
      if (!(error instanceof UnavailableError)) {
        log.warn("{task} failed: {error}", { task: name, error });
        return;
      }
      if (busySince === undefined) {
        busySince = Date.now();
        log.warn("{task} waits: {message}; retrying with backoff", { task: name, message: error.message });
      }
      const wait = Math.min(max, first * 2 ** Math.min(attempts, 30));
      attempts++;
      if (stopped) return;
      retry = setTimeout(() => {
        retry = undefined;
        void task.run();
      }, wait);
      Deno.unrefTimer(retry);
    }
  };

  const task: BackgroundTask = {
    run() {
      if (stopped || retry !== undefined) return running ?? Promise.resolve();
      running ??= attempt().finally(() => running = undefined);
      return running;
    },
    stop() {
      stopped = true;
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
    },
  };
  return task;
}
