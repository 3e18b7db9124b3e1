/**
 * Group commit: jobs submitted in the same turn of the event loop (several SMTP sessions finishing
 * their DATA together, say) are written by one call of `run`, so they share one transaction and its
 * commit, and each submitter's promise settles only after that commit. `run` answers every job on
 * its own (a value, or an Error for a job it refused without failing the others). When `run` itself
 * throws (the transaction rolled back, nothing of the batch written), each job of a batch of several is
 * run again alone, in a transaction of its own: one job that cannot be written (a constraint, a full
 * disk for its large message) is rejected with its own error, and the others are written as if it had
 * never been with them.
 */
import { setImmediate } from "node:timers";

/** Batches jobs into shared runs; see the module comment. */
export class GroupCommit<J, R> {
  #pending: Pending<J, R>[] = [];
  #scheduled = false;
  #running = false;

  constructor(
    private readonly run: (jobs: J[]) => Promise<(R | Error)[]>,
    private readonly options: { maxBatch: number } = { maxBatch: 64 },
  ) {}

  /** Queues `job`; settles with its outcome once the batch holding it has been written. */
  submit(job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ job, resolve, reject });
      if (this.#scheduled || this.#running) return;
      this.#scheduled = true;
      // An immediate runs after the I/O callbacks already due, so the jobs those submit join this
      // batch. Not setTimeout(0): Deno fires it a millisecond or more later (3-5 ms measured under
      // the inbound bench), time every message of the batch spent waiting with the event loop idle.
      setImmediate(() => {
        this.#scheduled = false;
        void this.#drain();
      });
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#pending.length) {
        const batch = this.#pending.splice(0, this.options.maxBatch);
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
