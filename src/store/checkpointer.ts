/**
 * WAL checkpoints in a worker thread. A commit that crosses `wal_autocheckpoint` (64 MB, see
 * connection.ts) copies the whole log into the database and syncs it inside that COMMIT, on the main
 * thread: measured under the inbound benchmark, 320–330 ms during which no SMTP reply, JMAP answer or
 * push goes out. The worker's own connection checkpoints every second instead (PASSIVE: it never
 * blocks the writer), so the log stays far below the threshold and the main thread's commits only
 * append. If the worker cannot run, the main connection's automatic checkpoints still happen.
 */
import { getLogger } from "@logtape/logtape";
import { workerUrl } from "../model/worker_url.ts";
import type { CheckpointReport, CheckpointStart } from "./checkpoint_worker.ts";

/** Name of the `Symbol.for` key where scripts/bundle.ts stores the bundled checkpoint worker's source. */
export const EMBEDDED_CHECKPOINT_WORKER_KEY = "postern.checkpointWorkerSource";

/** How often the worker checkpoints. */
export const CHECKPOINT_INTERVAL_MS = 1000;

/** A running checkpointer. */
export interface Checkpointer {
  /** Stops it; resolves once its connection is closed (before the main one closes). */
  close(): Promise<void>;
}

const log = getLogger(["postern", "store"]);

/** Starts checkpointing the WAL of the database at `path` in a worker. */
export function startCheckpointer(path: string, intervalMs = CHECKPOINT_INTERVAL_MS): Checkpointer {
  const worker = new Worker(
    workerUrl(EMBEDDED_CHECKPOINT_WORKER_KEY, new URL("./checkpoint_worker.ts", import.meta.url)),
    { type: "module" },
  );
  let closed: (() => void) | undefined;
  worker.onmessage = (event: MessageEvent<CheckpointReport>) => {
    if ("closed" in event.data) closed?.();
    else log.warn("WAL checkpoint in the background failed: {error}", { error: event.data.error });
  };
  worker.onerror = (event: ErrorEvent) => {
    // Without preventDefault an uncaught worker error is rethrown in the main thread and ends the process.
    event.preventDefault();
    log.warn("The WAL checkpoint worker stopped: {error}", { error: event.message });
    closed?.();
  };
  worker.postMessage({ path, intervalMs } satisfies CheckpointStart);
  return {
    async close() {
      const done = new Promise<void>((resolve) => closed = resolve);
      worker.postMessage("close");
      // A worker stuck in a checkpoint is not waited for past a few seconds.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([done, new Promise((resolve) => timer = setTimeout(resolve, 5000))]);
      clearTimeout(timer);
      worker.terminate();
    },
  };
}
