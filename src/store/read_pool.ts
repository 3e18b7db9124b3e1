/**
 * Read queries on worker threads. SQLite runs synchronously in the thread that calls it, so on the main
 * thread one full-text Email/query (milliseconds, tens at 100,000 messages) held every other request,
 * /healthz included, and the server used one core. Each worker of this pool has its own read-only
 * connection to the database file (WAL lets readers run beside the writer and each other) and runs the
 * operations of read_worker.ts, each in one read transaction.
 *
 * - Fair: jobs wait in one queue per account and the free workers take them round-robin across
 *   accounts, so an account that keeps the workers busy (up to its maxConcurrentRequests) delays
 *   another account's job by at most the jobs already running.
 * - Never a hang: a worker that throws, exits or passes the timeout is ended and replaced, and its job
 *   fails with an UnavailableError (JMAP serverUnavailable); the jobs behind it go to the others. A
 *   worker takes jobs only once it says it is ready (loaded), so its start, slow on a busy machine,
 *   never counts against a job's time; one that is not ready within its start timeout is replaced, and the
 *   waiting jobs fail rather than wait for workers that cannot start.
 * - Authorization is the caller's: a job carries what the caller decided (the account, the mailboxes
 *   the viewer may read), and the worker only reads.
 */
import { getLogger } from "@logtape/logtape";
import { UnavailableError } from "../model/errors.ts";
import { workerUrl } from "../model/worker_url.ts";
import type { ReadAnswer, ReadJob, ReadOperation } from "./read_worker.ts";

/** Name of the `Symbol.for` key where scripts/bundle.ts stores the bundled read worker's source. */
export const EMBEDDED_READ_WORKER_KEY = "postern.readWorkerSource";

/** How long one job may run before its worker counts as hung (a full-text query takes milliseconds). */
export const READ_JOB_TIMEOUT_MS = 30_000;

/** How long a new worker may take to load (a busy machine compiles and loads its modules slowly). */
export const READ_WORKER_START_TIMEOUT_MS = 30_000;

/** Options of a pool. */
export interface ReadPoolOptions {
  /** Workers (at least 1). */
  size: number;
  /** See {@link READ_JOB_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** See {@link READ_WORKER_START_TIMEOUT_MS}. */
  startTimeoutMs?: number;
  /** Test seam: another worker module speaking read_worker.ts's messages. */
  module?: string | URL;
}

interface Job {
  id: number;
  operation: ReadOperation;
  args: unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Slot {
  worker: Worker;
  /** Whether the worker has loaded and may take jobs. */
  ready: boolean;
  job?: Job;
  /** The running job's timeout, or the start's. */
  timer?: ReturnType<typeof setTimeout>;
}

const log = getLogger(["postern", "store"]);

/** Workers that run read operations on their own read-only connections. */
export class ReadPool {
  readonly #path: string;
  readonly #timeoutMs: number;
  readonly #startTimeoutMs: number;
  readonly #module: string | URL;
  readonly #slots: Slot[] = [];
  /** Waiting jobs per account; Map order is the round-robin order. */
  readonly #queues = new Map<number, Job[]>();
  #next = 1;
  #closed = false;
  /** Jobs answered by a worker, and workers replaced, since the start. */
  readonly stats = { jobs: 0, replaced: 0 };

  constructor(path: string, options: ReadPoolOptions) {
    this.#path = path;
    this.#timeoutMs = options.timeoutMs ?? READ_JOB_TIMEOUT_MS;
    this.#startTimeoutMs = options.startTimeoutMs ?? READ_WORKER_START_TIMEOUT_MS;
    this.#module = options.module ??
      workerUrl(EMBEDDED_READ_WORKER_KEY, new URL("./read_worker.ts", import.meta.url));
    for (let i = 0; i < Math.max(1, options.size); i++) this.#slots.push(this.#start());
  }

  /** Workers in the pool. */
  get size(): number {
    return this.#slots.length;
  }

  /** Runs `operation` for `accountId` on a worker; rejects with UnavailableError if the worker fails. */
  run<T>(operation: ReadOperation, args: unknown, accountId: number): Promise<T> {
    if (this.#closed) return Promise.reject(new UnavailableError("The server is stopping"));
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        id: this.#next++,
        operation,
        args,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      const queue = this.#queues.get(accountId);
      if (queue) queue.push(job);
      else this.#queues.set(accountId, [job]);
      this.#dispatch();
    });
  }

  /** Ends every worker; waiting jobs fail with UnavailableError. */
  close(): void {
    this.#closed = true;
    for (const slot of this.#slots) {
      clearTimeout(slot.timer);
      slot.worker.terminate();
      slot.job?.reject(new UnavailableError("The server is stopping"));
      slot.job = undefined;
    }
    for (const queue of this.#queues.values()) {
      for (const job of queue) job.reject(new UnavailableError("The server is stopping"));
    }
    this.#queues.clear();
  }

  #start(): Slot {
    const worker = new Worker(this.#module, { type: "module" });
    const slot: Slot = { worker, ready: false };
    slot.timer = setTimeout(
      () => this.#fail(slot, `did not start within ${this.#startTimeoutMs} ms`),
      this.#startTimeoutMs,
    );
    worker.onmessage = (event: MessageEvent<ReadAnswer>) => this.#answered(slot, event.data);
    worker.onerror = (event: ErrorEvent) => {
      // Without preventDefault an uncaught worker error is rethrown in the main thread and ends the process.
      event.preventDefault();
      this.#fail(slot, `stopped: ${event.message}`);
    };
    worker.onmessageerror = () => this.#fail(slot, "sent an answer that could not be read");
    worker.postMessage({ path: this.#path });
    return slot;
  }

  /** Gives waiting jobs to free workers, one account after another. */
  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.job || !slot.ready) continue;
      const next = this.#queues.entries().next();
      if (next.done) return;
      const [accountId, queue] = next.value;
      const job = queue.shift()!;
      // The account goes to the back of the round.
      this.#queues.delete(accountId);
      if (queue.length) this.#queues.set(accountId, queue);
      slot.job = job;
      slot.timer = setTimeout(() => this.#fail(slot, `passed ${this.#timeoutMs} ms`), this.#timeoutMs);
      slot.worker.postMessage({ id: job.id, operation: job.operation, args: job.args } satisfies ReadJob);
    }
  }

  #answered(slot: Slot, answer: ReadAnswer): void {
    if ("ready" in answer) {
      clearTimeout(slot.timer);
      slot.ready = true;
      this.#dispatch();
      return;
    }
    const job = slot.job;
    if (!job || answer.id !== job.id) return;
    clearTimeout(slot.timer);
    slot.job = undefined;
    this.stats.jobs++;
    if ("result" in answer) job.resolve(answer.result);
    else if (answer.busy) job.reject(new UnavailableError(answer.error, 2));
    else job.reject(new Error(`${job.operation} failed in a read worker: ${answer.error}`));
    this.#dispatch();
  }

  /** Ends a failed worker, fails its job and puts a new worker in its place. */
  #fail(slot: Slot, why: string): void {
    clearTimeout(slot.timer);
    slot.worker.terminate();
    const job = slot.job;
    slot.job = undefined;
    if (this.#closed) return;
    if (!slot.ready) {
      // A worker that cannot start: the waiting jobs fail now (the client retries) rather than wait.
      for (const queue of this.#queues.values()) {
        for (const waiting of queue) waiting.reject(new UnavailableError(`A read worker ${why}; retry`, 1));
      }
      this.#queues.clear();
    }
    log.warn("A read worker {why}; it is replaced", { why });
    this.stats.replaced++;
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots[index] = this.#start();
    job?.reject(new UnavailableError(`The read worker of this query ${why}; retry`, 1));
    this.#dispatch();
  }
}
