// Moves SQLite's WAL checkpoints off the main thread (see checkpointer.ts): its own connection to the
// database runs a PASSIVE checkpoint every interval, so the copy of the log into the database and its
// sync (hundreds of milliseconds for 64 MB of log) never stall the event loop that answers clients.
import { DatabaseSync } from "node:sqlite";

/** The start message: the database and how often to checkpoint. */
export interface CheckpointStart {
  path: string;
  intervalMs: number;
}

/** What the worker says: a failed checkpoint or open (the main connection's own checkpoints go on), or that it closed. */
export type CheckpointReport = { error: string } | { closed: true };

// Cast instead of `/// <reference lib="deno.worker" />`, which clashes with deno.window when the whole tree
// is type-checked in one program.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<CheckpointStart | "close">) => void) | null;
  postMessage(message: CheckpointReport): void;
  close(): void;
};

let db: DatabaseSync | undefined;
let timer: ReturnType<typeof setInterval> | undefined;
let failing = false;

function checkpoint(): void {
  try {
    // PASSIVE never waits for (or blocks) the writer: it copies what no reader still needs.
    db!.exec("PRAGMA wal_checkpoint(PASSIVE)");
    failing = false;
  } catch (error) {
    // Said once per run of failures, not every interval.
    if (!failing) scope.postMessage({ error: error instanceof Error ? error.message : String(error) });
    failing = true;
  }
}

scope.onmessage = (event) => {
  if (event.data === "close") {
    clearInterval(timer);
    db?.close();
    scope.postMessage({ closed: true });
    scope.close();
    return;
  }
  try {
    db = new DatabaseSync(event.data.path);
    db.exec("PRAGMA busy_timeout = 1000");
    timer = setInterval(checkpoint, event.data.intervalMs);
  } catch (error) {
    scope.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
};
