/**
 * The database check made at every start of `postern serve`, in the background: SQLite's integrity
 * check and the foreign-key check (integrity.ts) read the whole file — 10–45 s for a 1.2 GB database of
 * 100,000 messages on the 2-core dev machine — and made on the main thread before listening, they kept
 * the server from answering anything for that long after every restart. A worker thread now makes them
 * on its own read-only connection while the server serves, and the caller logs what it found, as
 * before. Repairs stay with `postern db check --repair`, which an operator runs knowingly.
 *
 * The check reads one snapshot of the database; while it runs, WAL checkpoints cannot pass that
 * snapshot, so the log grows by what is written meanwhile and shrinks at the next checkpoint after.
 */
import { workerUrl } from "../model/worker_url.ts";
import type { IntegrityChecker, IntegrityReport } from "./integrity.ts";
import type { IntegrityAnswer, IntegrityStart } from "./integrity_worker.ts";

/** Name of the `Symbol.for` key where scripts/bundle.ts stores the bundled integrity worker's source. */
export const EMBEDDED_INTEGRITY_WORKER_KEY = "postern.integrityWorkerSource";

/** A check under way. */
export interface StartupCheck {
  /** What it found; rejects only when it could not check (the reason). Never settles once stopped. */
  readonly report: Promise<IntegrityReport>;
  /** Ends the check if it still runs (the server is stopping). */
  stop(): void;
}

/**
 * Checks the database at `path` in a worker. A database only in memory cannot be opened twice: it is
 * checked by `inline` (the store's own checker), which is quick at that size.
 */
export function startupCheck(path: string, inline: IntegrityChecker): StartupCheck {
  if (path === ":memory:") return { report: inline.check(), stop() {} };
  const worker = new Worker(
    workerUrl(EMBEDDED_INTEGRITY_WORKER_KEY, new URL("./integrity_worker.ts", import.meta.url)),
    { type: "module" },
  );
  const report = new Promise<IntegrityReport>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<IntegrityAnswer>) => {
      worker.terminate();
      const answer = event.data;
      if ("error" in answer) return reject(new Error(answer.error));
      const { integrity, dangling, usage } = answer;
      const ok = integrity.length === 0 && dangling.length === 0 && usage.length === 0;
      resolve({ ok, integrity, dangling, usage, repaired: 0 });
    };
    worker.onerror = (event: ErrorEvent) => {
      // Without preventDefault an uncaught worker error is rethrown in the main thread and ends the process.
      event.preventDefault();
      worker.terminate();
      reject(new Error(event.message));
    };
  });
  worker.postMessage({ path } satisfies IntegrityStart);
  return { report, stop: () => worker.terminate() };
}
