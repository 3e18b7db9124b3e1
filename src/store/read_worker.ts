// The operations of the read pool (read_pool.ts) on a connection of this worker's own, opened read only:
// each runs in one read transaction, so what it returns describes one snapshot of the database (an
// Email/query's ids, total and state alike), and the next one sees every write committed before it.
import { DatabaseSync } from "node:sqlite";
import { setPriority } from "node:os";
import { isBusyError } from "./busy.ts";
import { Db } from "./db.ts";
import { snapshotEmailQuery } from "./email_query_snapshot.ts";
import { type EmailsById, emailsJson } from "./email_records.ts";
import type { EmailQuery } from "./email_query_types.ts";

/**
 * How much of the database file a worker maps (SQLite reads past it as usual): SQLite's ceiling
 * (SQLITE_MAX_MMAP_SIZE, just under 2 GiB), address space only. 256 MiB covered a fifth of the
 * 100,000-message corpus (1.2 GB), and every page past it was read into the worker's small page cache
 * again and again: a full-text query that checked its 1,667 matches against a mailbox took 13 ms
 * instead of 5 (scripts/bench/text_plan.ts).
 */
const READ_MMAP_BYTES = 0x7fff0000;

/**
 * The nice value of a read worker's thread (Linux; the process's threads stay at theirs). A worker busy
 * with a full-text query then gives way to the main thread, which answers every request, as soon as
 * that wakes up: measured with scripts/bench/cores.ts, /healthz p99 during the full-text load.
 */
export const READ_WORKER_NICE = 10;

/** The operations a read worker runs, by name. */
const OPERATIONS = {
  "emails.query": (db: Db, args: unknown) => snapshotEmailQuery(db, args as EmailQuery),
  // The rows of an Email/get as one JSON text (email_records.ts), posted as one string.
  "emails.get": (db: Db, args: unknown) => emailsJson(db, args as EmailsById),
} as const;

/** An operation's name. */
export type ReadOperation = keyof typeof OPERATIONS;

/** The start message: the database file. */
export interface ReadStart {
  path: string;
}

/** One job. */
export interface ReadJob {
  id: number;
  operation: ReadOperation;
  args: unknown;
}

/**
 * A job's answer: its result, or why it failed (busy: SQLite's lock, which a retry gets past); or, once,
 * `ready`: the worker has loaded and taken its start message, so the pool may give it jobs.
 */
export type ReadAnswer =
  | { id: number; result: unknown }
  | { id: number; error: string; busy: boolean }
  | { ready: true };

// Cast instead of `/// <reference lib="deno.worker" />`, which clashes with deno.window when the whole tree
// is type-checked in one program.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ReadStart | ReadJob>) => void) | null;
  postMessage(message: ReadAnswer): void;
};

/**
 * Lowers this thread's scheduling priority to READ_WORKER_NICE. Linux names a thread by its own id
 * (/proc/thread-self), and setpriority with it changes that thread alone; elsewhere, or without the
 * permission, the worker keeps the process's priority.
 */
function giveWayToMainThread(): void {
  try {
    const tid = Number(Deno.readLinkSync("/proc/thread-self").split("/").pop());
    if (Number.isSafeInteger(tid) && tid > 0 && tid !== Deno.pid) setPriority(tid, READ_WORKER_NICE);
  } catch {
    // No /proc, or not allowed: the same answers, only without the preference.
  }
}

let db: Db | undefined;
let path: string | undefined;

scope.onmessage = (event) => {
  const message = event.data;
  if ("path" in message) {
    path = message.path;
    giveWayToMainThread();
    scope.postMessage({ ready: true });
    return;
  }
  try {
    // Opened at the first job: a pool may start before the database file is created.
    if (!db) {
      const raw = new DatabaseSync(path!, { readOnly: true });
      raw.exec("PRAGMA busy_timeout = 5000");
      // Pages read through a memory map of the file, which every worker shares with the OS's cache,
      // instead of each worker's own 2 MB page cache: each worker's cache was colder than the main
      // connection's, and a query cost 15–35% more CPU on a worker than on the main thread; mapped,
      // 0–7% (1,000 queries of the full-text mix, 4 at a time, on the 10,000-message corpus).
      raw.exec(`PRAGMA mmap_size = ${READ_MMAP_BYTES}`);
      db = new Db(raw, 5000);
    }
    const run = OPERATIONS[message.operation];
    if (!run) throw new Error(`No read operation "${message.operation}"`);
    scope.postMessage({ id: message.id, result: run(db, message.args) });
  } catch (error) {
    scope.postMessage({
      id: message.id,
      error: error instanceof Error ? error.message : String(error),
      busy: isBusyError(error),
    });
  }
};
