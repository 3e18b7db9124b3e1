/**
 * The writers' lock of the threads of one process (the event loop and the full-text indexer's worker,
 * mail/search_index_worker.ts), where `serve --processes N` uses a lock file (writers_lock.ts): one
 * Int32Array cell in a SharedArrayBuffer, 0 when free, else the holder's number. Taking a free lock is
 * one compare-and-swap; a waiter tries again after a timer, so the event loop goes on serving. The
 * lock file costs each transaction a thread hop (a flock in Deno's blocking pool) of ~12 µs of
 * main-thread CPU, ~10% of a refresh-token grant (measured with store/db.ts transactions, 5,000 each).
 */

/** A thread's handle on the lock: the shared cell and the number it holds it as (1 or more). */
export interface ThreadLock {
  cells: Int32Array;
  holder: number;
}

/** A new lock, free, for the threads given its buffer. */
export function newThreadLockBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(4);
}

/** Takes the lock if it is free; whether it did. */
export function tryLockThreads(lock: ThreadLock): boolean {
  return Atomics.compareExchange(lock.cells, 0, 0, lock.holder) === 0;
}

/**
 * Waits for the lock at most `waitMs`, trying again every millisecond; whether it took it. Not
 * Atomics.waitAsync: in Deno 2.9.6 its promise does not keep the event loop alive, nor wake it (a test
 * with nothing else pending ended with the wait unresolved). The indexer holds the lock a few
 * milliseconds at most ten times a second, so a write rarely waits, and then a millisecond at most more.
 */
export async function lockThreads(lock: ThreadLock, waitMs: number): Promise<boolean> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    if (tryLockThreads(lock)) return true;
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Gives the lock up (it must be held as `lock.holder`). */
export function unlockThreads(lock: ThreadLock): void {
  Atomics.compareExchange(lock.cells, 0, lock.holder, 0);
  Atomics.notify(lock.cells, 0);
}

/** Frees the lock if holder `holder` still holds it: a thread that ended while holding it. */
export function releaseDeadHolder(cells: Int32Array, holder: number): void {
  if (Atomics.compareExchange(cells, 0, holder, 0) === holder) Atomics.notify(cells, 0);
}
