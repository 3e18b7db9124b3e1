// The operations of the read pool (read_pool.ts) on a connection of this worker's own, opened read only:
// each runs in one read transaction, so what it returns describes one snapshot of the database (an
// Email/query's ids, total and state alike), and the next one sees every write committed before it.
import { DatabaseSync } from "node:sqlite";
import { isBusyError } from "./busy.ts";
import { Db } from "./db.ts";
import { snapshotEmailQuery } from "./email_query_snapshot.ts";
import type { EmailQuery } from "./email_query_types.ts";

/** The operations a read worker runs, by name. */
const OPERATIONS = {
  "emails.query": (db: Db, args: unknown) => snapshotEmailQuery(db, args as EmailQuery),
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

/** A job's answer: its result, or why it failed (busy: SQLite's lock, which a retry gets past). */
export type ReadAnswer = { id: number; result: unknown } | { id: number; error: string; busy: boolean };

// Cast instead of `/// <reference lib="deno.worker" />`, which clashes with deno.window when the whole tree
// is type-checked in one program.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ReadStart | ReadJob>) => void) | null;
  postMessage(message: ReadAnswer): void;
};

let db: Db | undefined;
let path: string | undefined;

scope.onmessage = (event) => {
  const message = event.data;
  if ("path" in message) {
    path = message.path;
    return;
  }
  try {
    // Opened at the first job: a pool may start before the database file is created.
    if (!db) {
      const raw = new DatabaseSync(path!, { readOnly: true });
      raw.exec("PRAGMA busy_timeout = 5000");
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
