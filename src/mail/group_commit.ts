/**
 * Group commit: jobs submitted in the same turn of the event loop (several SMTP sessions finishing
 * their DATA together, say) are written by one call of `run`, so they share one transaction and its
 * commit, and each submitter's promise settles only after that commit. `run` answers every job on
 * its own (a value, or an Error for a job it refused without failing the others). When `run` itself
 * throws (the transaction rolled back, nothing of the batch written), each job of a batch of several is
 * run again alone, in a transaction of its own: one job that cannot be written (a constraint, a full
 * disk for its large message) is rejected with its own error, and the others are written as if it had
 * never been with them.
 *
 * A caller that knows a job is on its way (a message received whose authentication checks are still
 * running) says so with {@link GroupCommit.expect}: a batch then waits for the jobs expected, up to
 * `maxWaitMs` after its first job came, so they share its commit. A commit's cost is mostly per
 * transaction (each index's pages, the full-text segment, the WAL frames written twice per page), not
 * per job: stored by the inbound bench's 16 sessions, batches of ~6 messages cost ~1.5× the CPU per
 * message of batches of 16.
 */
import { setImmediate } from "node:timers";

/** How long a batch waits at most for the jobs expected, by default (milliseconds). */
export const GROUP_COMMIT_MAX_WAIT_MS = 10;

/** Batches jobs into shared runs; see the module comment. */
export class GroupCommit<J, R> {
  #pending: Pending<J, R>[] = [];
  #scheduled = false;
  #running = false;
  /** Jobs announced by {@link expect} and not yet submitted nor given up. */
  #expected = 0;
  /** The end of the wait for the jobs expected, while one is armed. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Set when the first pending job has waited `maxWaitMs`: the next drain writes what it has. */
  #waited = false;
  readonly #maxBatch: number;
  readonly #maxWaitMs: number;

  constructor(
    private readonly run: (jobs: J[]) => Promise<(R | Error)[]>,
    options: { maxBatch?: number; maxWaitMs?: number } = {},
  ) {
    this.#maxBatch = options.maxBatch ?? 64;
    this.#maxWaitMs = options.maxWaitMs ?? GROUP_COMMIT_MAX_WAIT_MS;
  }

  /**
   * Announces a job that will be submitted soon (or never); returns what to call when it is submitted
   * or given up (calls after the first do nothing).
   */
  expect(): () => void {
    this.#expected++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#expected--;
      if (this.#expected === 0 && this.#pending.length && this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#schedule();
      }
    };
  }

  /** Queues `job`; settles with its outcome once the batch holding it has been written. */
  submit(job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ job, resolve, reject });
      if (this.#pending.length >= this.#maxBatch && this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#running || this.#timer !== undefined) return;
    this.#scheduled = true;
    // An immediate runs after the I/O callbacks already due, so the jobs those submit join this
    // batch. Not setTimeout(0): Deno fires it a millisecond or more later (3-5 ms measured under
    // the inbound bench), time every message of the batch spent waiting with the event loop idle.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#drain();
    });
  }

  /** Whether the pending jobs should wait for the ones expected (arming the end of that wait). */
  #holding(): boolean {
    if (this.#waited || this.#expected === 0 || this.#pending.length >= this.#maxBatch) return false;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#waited = true;
      this.#schedule();
    }, this.#maxWaitMs);
    return true;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#pending.length && !this.#holding()) {
        this.#waited = false;
        if (this.#timer !== undefined) clearTimeout(this.#timer);
        this.#timer = undefined;
        const batch = this.#pending.splice(0, this.#maxBatch);
        if (!(await this.#write(batch))) {
          for (const entry of batch) await this.#write([entry]);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /**
   * One run of `batch`, each entry settled with its outcome; false (nobody settled) when the run threw
   * for a batch of several, which the caller then runs job by job. A lone job is rejected with the error.
   */
  async #write(batch: Pending<J, R>[]): Promise<boolean> {
    try {
      const outcomes = await this.run(batch.map((entry) => entry.job));
      batch.forEach((entry, i) => {
        const outcome = outcomes[i];
        if (outcome instanceof Error) entry.reject(outcome);
        else entry.resolve(outcome);
      });
      return true;
    } catch (error) {
      if (batch.length > 1) return false;
      batch[0].reject(error);
      return true;
    }
  }
}

/** A submitted job and how to settle its promise. */
interface Pending<J, R> {
  job: J;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}
