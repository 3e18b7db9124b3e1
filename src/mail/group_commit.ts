/**
 * Group commit: jobs submitted in the same turn of the event loop (several SMTP sessions finishing
 * their DATA together, say) are written by one call of `run`, so they share one transaction and its
 * commit, and each submitter's promise settles only after that commit. `run` answers every job on
 * its own (a value, or an Error for a job it refused without failing the others); when `run` itself
 * throws (the transaction rolled back), every job of the batch is rejected with that error.
 */
import { setImmediate } from "node:timers";

/** Batches jobs into shared runs; see the module comment. */
export class GroupCommit<J, R> {
  #pending: { job: J; resolve: (value: R) => void; reject: (error: unknown) => void }[] = [];
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
        try {
          const outcomes = await this.run(batch.map((entry) => entry.job));
          batch.forEach((entry, i) => {
            const outcome = outcomes[i];
            if (outcome instanceof Error) entry.reject(outcome);
            else entry.resolve(outcome);
          });
        } catch (error) {
          for (const entry of batch) entry.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
