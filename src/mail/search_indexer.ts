/**
 * The full-text indexer as the main thread sees it (store/search_index.ts has the why): a worker
 * thread with its own connection fills the index after each commit that stored emails, so the FTS5
 * inserts, their segment flushes and the parse of the search text leave the event loop; a full-text
 * query first waits until the index holds every email committed before it started. Without the
 * worker (a database in memory, a CLI in local mode, a worker that failed) the query indexes what is
 * missing itself, on this thread, with the same batches.
 */
import { getLogger } from "@logtape/logtape";
import {
  INDEXER_THREAD,
  releaseDeadHolder,
  type SearchIndexHooks,
  type SearchIndexRepository,
} from "../store/mod.ts";
import { workerUrl } from "../model/worker_url.ts";
import {
  INDEX_DELAY_MS,
  INDEX_POLL_MS,
  indexBatch,
  type IndexerReport,
  type IndexerRequest,
  type IndexerStart,
  type IndexLease,
} from "./search_index.ts";

const log = getLogger(["postern", "mail", "search"]);

/**
 * Name of the `Symbol.for` key on `globalThis` where scripts/bundle.ts stores the bundled indexer
 * worker's source (a single-file bundle has no search_index_worker.ts beside it).
 */
export const EMBEDDED_INDEX_WORKER_KEY = "postern.indexWorkerSource";

/**
 * How long a query waits for the worker (or another process's indexer) to move the index before it
 * indexes what is missing itself, whatever the lease (a crashed process's lease holds INDEX_LEASE_MS): a backlog of
 * thousands of emails takes the worker a second or two.
 */
export const CATCH_UP_WAIT_MS = 2_000;
/** A worker that failed is started again at the next commit, at most this often. */
const RESTART_MS = 10_000;
/** How long a close waits for the batch under way. */
const STOP_WAIT_MS = 2_000;

/** Fills the full-text index; the store calls it through {@link SearchIndexHooks}. */
export class SearchIndexer implements SearchIndexHooks {
  readonly #index: SearchIndexRepository;
  readonly #start: IndexerStart | undefined;
  #worker: Worker | undefined;
  #startedAt = 0;
  #lastWake = -Infinity;
  readonly #waiters = new Set<() => void>();
  /** This thread's lease, and its batches one at a time. */
  readonly #lease: IndexLease = { until: 0 };
  #inline: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** `worker`: the database file for a worker thread; none: every batch on this thread. */
  constructor(index: SearchIndexRepository, worker?: IndexerStart) {
    this.#index = index;
    this.#start = worker;
    if (worker) this.#startWorker();
  }

  /** Whether a worker thread indexes (else the queries do). */
  get threaded(): boolean {
    return this.#worker !== undefined;
  }

  /** After a commit that stored emails: wakes the worker, once per INDEX_DELAY_MS at most. */
  stored(): void {
    if (this.#closed) return;
    if (!this.#worker && this.#start && Date.now() - this.#startedAt >= RESTART_MS) this.#startWorker();
    const now = Date.now();
    if (!this.#worker || now - this.#lastWake < INDEX_DELAY_MS) return;
    this.#lastWake = now;
    this.#post({ wake: "soon" });
  }

  /** Resolves once every email committed before the call is in the index. */
  async caughtUp(): Promise<void> {
    let state = await this.#index.state();
    if (state.indexedThrough >= state.latest) return;
    const target = state.latest;
    // The wait ends CATCH_UP_WAIT_MS after the index last moved, not after the query began: a worker
    // working through a backlog (thousands of emails after an outage of its own) keeps the batches off
    // the event loop, where parsing them all would stall every other request.
    let deadline = Date.now() + CATCH_UP_WAIT_MS;
    let through = state.indexedThrough;
    for (;;) {
      if (this.#worker && Date.now() < deadline) {
        this.#post({ wake: "now" });
        await this.#report();
      } else {
        const force = Date.now() >= deadline;
        const step = await this.#inlineBatch(force);
        if (step.kind === "claimed elsewhere") await this.#report();
      }
      state = await this.#index.state();
      if (state.indexedThrough > through) {
        through = state.indexedThrough;
        deadline = Date.now() + CATCH_UP_WAIT_MS;
      }
      // The newest email may have been another transaction's, still open on this connection when
      // it was read, and then rolled back: what is committed is then all there is to wait for.
      if (state.indexedThrough >= Math.min(target, state.latest)) return;
    }
  }

  /** Stops the worker once its batch under way is written (or STOP_WAIT_MS passed). */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    const stopped = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, STOP_WAIT_MS);
      worker.addEventListener("message", (event) => {
        if ("stopped" in (event as MessageEvent<IndexerReport>).data) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    this.#post({ stop: true });
    await stopped;
    worker.terminate();
    this.#freeLock();
    this.#worker = undefined;
    this.#wakeWaiters();
  }

  /** Test seam: ends the worker at once, as a crash would (the next commit starts another). */
  terminateWorker(): void {
    this.#worker?.terminate();
    this.#freeLock();
    this.#worker = undefined;
    this.#startedAt = -Infinity;
    this.#wakeWaiters();
  }

  /** The threads' lock, should the ended worker have held it (store/thread_lock.ts). */
  #freeLock(): void {
    if (this.#start?.threadLock) releaseDeadHolder(new Int32Array(this.#start.threadLock), INDEXER_THREAD);
  }

  #inlineBatch(force: boolean) {
    const run = () => indexBatch(this.#index, this.#lease, { force });
    const next = this.#inline.then(run, run);
    this.#inline = next.catch(() => undefined);
    return next;
  }

  /** Waits for the worker's next report, or a poll's time. */
  #report(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, INDEX_POLL_MS);
      this.#waiters.add(done);
    });
  }

  #wakeWaiters(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #post(request: IndexerRequest): void {
    this.#worker?.postMessage(request);
  }

  #startWorker(): void {
    this.#startedAt = Date.now();
    const url = workerUrl(EMBEDDED_INDEX_WORKER_KEY, new URL("./search_index_worker.ts", import.meta.url));
    const worker = new Worker(url, { type: "module" });
    worker.onmessage = (event: MessageEvent<IndexerReport>) => {
      if ("error" in event.data) log.warn("A full-text index batch failed: {error}", event.data);
      this.#wakeWaiters();
    };
    worker.onerror = (event: ErrorEvent) => {
      // Without preventDefault an uncaught worker error is rethrown in the main thread and ends the process.
      event.preventDefault();
      log.warn("The full-text indexer stopped: {why}; queries index what is missing", { why: event.message });
      if (this.#worker === worker) this.terminateWorker();
      this.#startedAt = Date.now();
    };
    this.#worker = worker;
    this.#post({ start: this.#start! });
  }
}
