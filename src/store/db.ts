import { AsyncLocalStorage } from "node:async_hooks";
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { DEFAULT_BUSY_TIMEOUT_MS } from "../model/background.ts";
import { busyAsUnavailable, busyError, isBusyError } from "./busy.ts";
import { openWritersLock } from "./writers_lock.ts";
import { lockThreads, type ThreadLock, tryLockThreads, unlockThreads } from "./thread_lock.ts";

/**
 * The busy timeout while another process is known to hold the write lock (a write already waited the
 * full timeout for it): SQLite waits in the JavaScript thread, so every further write would otherwise
 * freeze the server for the full timeout before its 503. The first write that gets the lock restores it.
 */
export const BUSY_PROBE_TIMEOUT_MS = 50;

/** A row as node:sqlite returns it. */
export type Row = Record<string, SQLInputValue>;

/** Thin wrapper over a connection: cached prepared statements and nested-safe transactions. */
export class Db {
  readonly #statements = new Map<string, StatementSync>();
  /** Statements returning rows as arrays (firstValues). */
  readonly #arrayStatements = new Map<string, StatementSync>();
  /** The open transaction, and which async calls run inside its body (those alone may join it). */
  #open: object | undefined;
  readonly #inside = new AsyncLocalStorage<object>();
  #queue: Promise<unknown> = Promise.resolve();
  /** Whether writes only probe for the lock (see {@link BUSY_PROBE_TIMEOUT_MS}). */
  #probing = false;
  /** What runs once the open transaction commits (see {@link afterCommit}). */
  #afterCommit: (() => void)[] = [];

  /** The writers' lock file, when processes take turns through it (see {@link transaction}). */
  readonly #writers: Deno.FsFile | undefined;
  /** The writers' lock of this process's threads, when another thread writes too (store/thread_lock.ts). */
  readonly #threads: ThreadLock | undefined;
  /** A request for the writers' lock still waiting in its thread (one at most: transactions queue). */
  #lockRequest: Promise<void> | undefined;
  /** Whether a transaction awaits {@link #lockRequest}; when none does once it is granted, it is dropped. */
  #lockWanted = false;

  /**
   * `busyTimeoutMs` is the connection's busy timeout, restored once the lock is free again.
   * `writersLock`: the path of a lock file that every transaction holds (flock, exclusive) from
   * before its BEGIN to after its COMMIT, for processes that write the same database all the time
   * (`serve --processes N`, store/writers_lock.ts). `threadLock`: the same for the threads of one
   * process, without a file (store/thread_lock.ts); one or the other.
   */
  constructor(
    readonly raw: DatabaseSync,
    readonly busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS,
    options: { writersLock?: string; threadLock?: ThreadLock } = {},
  ) {
    this.#writers = options.writersLock === undefined ? undefined : openWritersLock(options.writersLock);
    this.#threads = this.#writers ? undefined : options.threadLock;
  }

  /** Whether a transaction is open on this connection (a read here would see its uncommitted writes). */
  get inTransaction(): boolean {
    return this.#open !== undefined;
  }

  /** A prepared statement, compiled once per connection. */
  statement(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.raw.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Every row of a query. */
  all<T = Row>(sql: string, ...params: SQLInputValue[]): T[] {
    try {
      return this.statement(sql).all(...params) as T[];
    } catch (error) {
      throw busyAsUnavailable(error);
    }
  }

  /** The rows of a query one at a time; stopping early ends the statement. */
  iterate<T = Row>(sql: string, ...params: SQLInputValue[]): IterableIterator<T> {
    return this.statement(sql).iterate(...params) as IterableIterator<T>;
  }

  /** The first row of a query, or undefined. */
  get<T = Row>(sql: string, ...params: SQLInputValue[]): T | undefined {
    try {
      return this.statement(sql).get(...params) as T | undefined;
    } catch (error) {
      throw busyAsUnavailable(error);
    }
  }

  /**
   * The first row of a query as an array of its columns' values, or undefined: no object with a
   * property per column from node:sqlite, which cost a point lookup of a 12-column row about as much
   * as the lookup itself (a token family, read on every fresh refresh token). Statements of its own,
   * so no other reader sees arrays.
   */
  firstValues(sql: string, ...params: SQLInputValue[]): unknown[] | undefined {
    let stmt = this.#arrayStatements.get(sql);
    if (!stmt) {
      stmt = this.raw.prepare(sql);
      // In Deno's node:sqlite (Node 24's API), not yet in its type declarations.
      (stmt as StatementSync & { setReturnArrays(on: boolean): void }).setReturnArrays(true);
      this.#arrayStatements.set(sql, stmt);
    }
    try {
      return stmt.get(...params) as unknown[] | undefined;
    } catch (error) {
      throw busyAsUnavailable(error);
    }
  }

  /**
   * Runs a write; returns the new row id and the number of changed rows. Outside a transaction, a
   * write that waited the busy timeout for another process's lock throws UnavailableError.
   */
  run(sql: string, ...params: SQLInputValue[]): { id: number; changes: number } {
    try {
      const result = this.statement(sql).run(...params);
      if (this.#probing && this.#open === undefined) this.#lockFree();
      return { id: Number(result.lastInsertRowid), changes: Number(result.changes) };
    } catch (error) {
      throw this.#busy(error);
    }
  }

  /**
   * Calls `callback` once what was just written is committed: when the open transaction commits
   * (never if it rolls back), or in a microtask outside a transaction (each statement commits itself).
   */
  afterCommit(callback: () => void): void {
    if (this.#open === undefined) queueMicrotask(callback);
    else this.#afterCommit.push(callback);
  }

  /**
   * Runs `body` in one IMMEDIATE transaction. Transactions of this process are queued, so an
   * awaiting body never interleaves with another; bodies must await only store calls. A call made
   * from inside a body (its own async calls) joins that transaction; any other call waits for it to
   * end, so nobody is told "committed" for work a rollback later undoes. When another process holds
   * the write lock past the busy timeout, it rejects with UnavailableError. With a writers' lock,
   * the transaction first waits for it without blocking the event loop, as long as the busy timeout
   * (a holder that stopped without dying must not stall every write here for ever).
   */
  transaction<T>(body: () => Promise<T> | T): Promise<T> {
    if (this.#open !== undefined && this.#inside.getStore() === this.#open) {
      return Promise.resolve(body());
    }
    const writers = this.#writers;
    const threads = this.#threads;
    const run = writers !== undefined
      ? async () => {
        await this.#lockWriters(writers);
        try {
          return await this.#run(body);
        } finally {
          writers.unlockSync();
        }
      }
      : threads !== undefined
      ? async () => {
        if (!tryLockThreads(threads) && !await lockThreads(threads, this.busyTimeoutMs)) {
          throw this.#busy(busyError());
        }
        try {
          return await this.#run(body);
        } finally {
          unlockThreads(threads);
        }
      }
      : () => this.#run(body);
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Waits for the writers' lock as long as the busy timeout (after one write timed out, only as long
   * as a probe, like SQLite's own lock), else throws UnavailableError. The request that timed out
   * stays in its thread: the next transaction waits for that same request, and if it is granted with
   * no transaction waiting, the lock is dropped at once.
   */
  async #lockWriters(writers: Deno.FsFile): Promise<void> {
    if (this.#lockRequest === undefined) {
      const request = writers.lock(true).then(
        () => {
          this.#lockRequest = undefined;
          if (!this.#lockWanted) writers.unlockSync();
        },
        (error) => {
          this.#lockRequest = undefined;
          throw error;
        },
      );
      request.catch(() => undefined);
      this.#lockRequest = request;
    }
    const waitMs = this.#probing ? Math.min(BUSY_PROBE_TIMEOUT_MS, this.busyTimeoutMs) : this.busyTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), waitMs));
    this.#lockWanted = true;
    try {
      if (await Promise.race([this.#lockRequest.then(() => false), timedOut])) throw this.#busy(busyError());
    } finally {
      this.#lockWanted = false;
      clearTimeout(timer);
    }
  }

  /** BEGIN IMMEDIATE, `body`, COMMIT (ROLLBACK when it throws). */
  async #run<T>(body: () => Promise<T> | T): Promise<T> {
    try {
      this.raw.exec("BEGIN IMMEDIATE");
      if (this.#probing) this.#lockFree();
    } catch (error) {
      throw this.#busy(error);
    }
    const open = {};
    this.#open = open;
    try {
      const result = await this.#inside.run(open, body);
      this.raw.exec("COMMIT");
      for (const callback of this.#afterCommit.splice(0)) {
        // Committed is committed: a listener's failure must not turn the write into an error.
        try {
          callback();
        } catch { /* the listener's own */ }
      }
      return result;
    } catch (error) {
      this.#afterCommit.length = 0;
      if (this.raw.isTransaction) this.raw.exec("ROLLBACK");
      throw this.#busy(error);
    } finally {
      this.#open = undefined;
    }
  }

  /** SQLITE_BUSY as UnavailableError; from now on writes only probe for the lock until one gets it. */
  #busy(error: unknown): unknown {
    if (isBusyError(error) && !this.#probing && this.raw.isOpen) {
      this.#probing = true;
      this.raw.exec(`PRAGMA busy_timeout = ${Math.min(BUSY_PROBE_TIMEOUT_MS, this.busyTimeoutMs)}`);
    }
    return busyAsUnavailable(error);
  }

  /** A write got the lock: later writes wait the full busy timeout again. */
  #lockFree(): void {
    this.#probing = false;
    this.raw.exec(`PRAGMA busy_timeout = ${Math.trunc(this.busyTimeoutMs)}`);
  }

  /** Closes the connection. */
  close(): void {
    this.#writers?.close();
    this.#statements.clear();
    if (this.raw.isOpen) this.raw.close();
  }
}
