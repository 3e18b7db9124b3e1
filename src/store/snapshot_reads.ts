/**
 * Point reads (a token family by id, on every fresh refresh token) on a connection of their own,
 * inside a read transaction kept open while nothing is committed. Outside a transaction every SQLite
 * statement opens and ends a read transaction of its own: in WAL mode a lock and an unlock of a
 * read mark on the -shm file (two fcntl system calls) and the checks around them, about 8 µs of the
 * 10 µs a point lookup took here, the lookup itself under 2 µs.
 *
 * Never stale: before each read the WAL-index change counter (wal_signal.ts), which every commit of
 * any connection of any process moves, is compared with its value from before the transaction's
 * snapshot was taken; if it moved, the transaction ends and a new one starts, so a read sees every
 * commit made before it, as an autocommit read does (a revocation committed by another process
 * included). Without the counter (an in-memory database) there are no snapshot reads: the caller
 * reads on its own connection.
 *
 * A held snapshot keeps a checkpoint from copying frames committed after it, so one is held at most
 * HOLD_MS, and ended at the next read after any commit.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { DEFAULT_BUSY_TIMEOUT_MS } from "../model/background.ts";
import { busyAsUnavailable } from "./busy.ts";

/** How long one read transaction may stay open. */
export const HOLD_MS = 50;

/** Reads in a held snapshot of the database at `path`; `changeSignal` is its WAL change counter. */
export class SnapshotReads {
  #raw: DatabaseSync | undefined;
  readonly #statements = new Map<string, StatementSync>();
  /** The change counter read before the open transaction's snapshot was taken. */
  #change: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    private readonly path: string,
    private readonly changeSignal: () => number | undefined,
    private readonly busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS,
  ) {}

  /** Whether reads can be made here (the counter is readable); else the caller uses its connection. */
  available(): boolean {
    return !this.#closed && this.changeSignal() !== undefined;
  }

  /** The first row of `sql` as an array of its columns' values, or undefined (as Db.firstValues). */
  firstValues(sql: string, ...params: SQLInputValue[]): unknown[] | undefined {
    const change = this.changeSignal();
    if (change === undefined || this.#closed) throw new Error("Snapshot reads are not available");
    if (this.#change !== undefined && change !== this.#change) this.#end();
    const raw = this.#connection();
    if (this.#change === undefined) {
      // BEGIN takes no snapshot: the first read below does, after `change` was read, so a commit
      // between the two only makes the next read start over.
      raw.exec("BEGIN");
      this.#change = change;
      this.#timer = setTimeout(() => this.#end(), HOLD_MS);
      Deno.unrefTimer(this.#timer as unknown as number);
    }
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = raw.prepare(sql);
      (stmt as StatementSync & { setReturnArrays(on: boolean): void }).setReturnArrays(true);
      this.#statements.set(sql, stmt);
    }
    try {
      return stmt.get(...params) as unknown[] | undefined;
    } catch (error) {
      this.#end();
      throw busyAsUnavailable(error);
    }
  }

  /** Ends the open read transaction, if any. */
  #end(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#change = undefined;
    if (this.#raw?.isTransaction) this.#raw.exec("COMMIT");
  }

  #connection(): DatabaseSync {
    if (!this.#raw) {
      this.#raw = new DatabaseSync(this.path, { readOnly: true });
      this.#raw.exec(`PRAGMA busy_timeout = ${Math.trunc(this.busyTimeoutMs)}`);
    }
    return this.#raw;
  }

  /** Ends the transaction and closes the connection (before the change counter's descriptor). */
  close(): void {
    this.#closed = true;
    this.#end();
    this.#statements.clear();
    if (this.#raw?.isOpen) this.#raw.close();
    this.#raw = undefined;
  }
}
