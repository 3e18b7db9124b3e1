// The start's database check (startup_check.ts) on a connection of its own, opened read only: SQLite's
// integrity check reads every page of the file (tens of seconds for a few GB), which on the main thread
// kept `postern serve` from answering anything until it ended.
import { DatabaseSync } from "node:sqlite";
import { type DanglingRow, findProblems, type UsageMismatch } from "./integrity.ts";

/** The start message: the database file. */
export interface IntegrityStart {
  path: string;
}

/** What the worker says once: the problems found, or why it could not check. */
export type IntegrityAnswer =
  | { integrity: string[]; dangling: DanglingRow[]; usage: UsageMismatch[] }
  | { error: string };

// Cast instead of `/// <reference lib="deno.worker" />`, which clashes with deno.window when the whole tree
// is type-checked in one program.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<IntegrityStart>) => void) | null;
  postMessage(message: IntegrityAnswer): void;
  close(): void;
};

scope.onmessage = (event) => {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(event.data.path, { readOnly: true });
    db.exec("PRAGMA busy_timeout = 5000");
    const { integrity, dangling, usage } = findProblems(db);
    scope.postMessage({ integrity, dangling, usage });
  } catch (error) {
    scope.postMessage({ error: error instanceof Error ? error.message : String(error) });
  } finally {
    db?.close();
    scope.close();
  }
};
