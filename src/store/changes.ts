import type { Change, ChangeKind, LoggedChange } from "../model/types.ts";
import type { Db } from "./db.ts";

const KIND_CODE: Record<ChangeKind, number> = { created: 1, updated: 2, destroyed: 3 };
const KIND_NAME: ChangeKind[] = ["created", "created", "updated", "destroyed"];

/** A per-account change as push reads it: which object, and for whom when it concerns one account. */
export interface AccountChange {
  id: number;
  type: string;
  accountId: number;
  objectId: number;
  ownerId: number | null;
}

/** The change log: state strings and the raw material of `/changes` and `/queryChanges`. */
export interface ChangeLog {
  /** Appends changes; call in the transaction of the write they describe. */
  append(changes: Change[]): Promise<void>;
  /** Calls `listener` after each commit that appended changes (in this process); returns how to stop. */
  onAppended(listener: () => void): () => void;
  /** The newest change of any type or scope (0 when there is none). */
  lastId(): Promise<number>;
  /** Per-account changes (account_id set) after `afterId`, oldest first, at most `limit`. */
  after(afterId: number, limit: number): Promise<AccountChange[]>;
  /** Position of the newest change of a type in a scope (0 when there is none). */
  position(type: string, accountId: number | null): Promise<number>;
  /** Changes after `afterId`, oldest first, at most `limit` rows; only `ownerId`'s when given. */
  since(
    type: string,
    accountId: number | null,
    afterId: number,
    options: { limit: number; ownerId?: number },
  ): Promise<LoggedChange[]>;
}

/** Position of the newest change of a type in a scope (0 when there is none). */
export function changePosition(db: Db, type: string, accountId: number | null): number {
  const row = db.get<{ id: number | null }>(
    "SELECT max(id) AS id FROM changes WHERE type = ? AND account_id IS ?",
    type,
    accountId,
  );
  return Number(row?.id ?? 0);
}

/** Position of the newest Email change of an account: its Email state (the directory's ChangeService). */
export function emailChangePosition(db: Db, accountId: number): number {
  return changePosition(db, "Email", accountId);
}

/** Whether two changes differ in their object alone. */
function alike(a: Change, b: Change): boolean {
  return a.accountId === b.accountId && (a.ownerId ?? null) === (b.ownerId ?? null) && a.type === b.type &&
    a.kind === b.kind && Boolean(a.countsOnly) === Boolean(b.countsOnly);
}

/** SQLite implementation of {@link ChangeLog}. */
export function sqliteChanges(db: Db): ChangeLog {
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  return {
    onAppended(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    append(changes) {
      if (changes.length && listeners.size) db.afterCommit(notify);
      const now = Date.now();
      // A run of changes alike but for their object (a STORE on 1,000 emails) is one statement.
      for (let i = 0, j = 1; i < changes.length; i = j, j = i + 1) {
        const c = changes[i];
        while (j < changes.length && alike(changes[j], c)) j++;
        const scope = [c.accountId, c.ownerId ?? null, c.type] as const;
        const flags = [KIND_CODE[c.kind], now, c.countsOnly && c.kind === "updated" ? 1 : 0] as const;
        if (j - i === 1) {
          db.run(
            `INSERT INTO changes (account_id, owner_id, type, object_id, kind, created_at, counts_only)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
            ...scope,
            c.objectId,
            ...flags,
          );
        } else {
          db.run(
            `INSERT INTO changes (account_id, owner_id, type, object_id, kind, created_at, counts_only)
             SELECT ?, ?, ?, value, ?, ?, ? FROM json_each(?) ORDER BY key`,
            ...scope,
            ...flags,
            JSON.stringify(changes.slice(i, j).map((x) => x.objectId)),
          );
        }
      }
      return Promise.resolve();
    },
    lastId() {
      return Promise.resolve(
        Number(db.get<{ id: number | null }>("SELECT max(id) AS id FROM changes")?.id ?? 0),
      );
    },
    after(afterId, limit) {
      const rows = db.all<
        { id: number; type: string; account_id: number; object_id: number; owner_id: number | null }
      >(
        `SELECT id, type, account_id, object_id, owner_id FROM changes WHERE id > ? AND account_id IS NOT NULL
         ORDER BY id LIMIT ?`,
        afterId,
        limit,
      );
      return Promise.resolve(
        rows.map((r) => ({
          id: Number(r.id),
          type: String(r.type),
          accountId: Number(r.account_id),
          objectId: Number(r.object_id),
          ownerId: r.owner_id === null ? null : Number(r.owner_id),
        })),
      );
    },
    position(type, accountId) {
      return Promise.resolve(changePosition(db, type, accountId));
    },
    since(type, accountId, afterId, options) {
      const rows = options.ownerId === undefined
        ? db.all<{ id: number; object_id: number; kind: number; counts_only: number }>(
          "SELECT id, object_id, kind, counts_only FROM changes WHERE type = ? AND account_id IS ? AND id > ? ORDER BY id LIMIT ?",
          type,
          accountId,
          afterId,
          options.limit,
        )
        : db.all<{ id: number; object_id: number; kind: number; counts_only: number }>(
          `SELECT id, object_id, kind, counts_only FROM changes WHERE type = ? AND account_id IS ? AND owner_id = ? AND id > ?
           ORDER BY id LIMIT ?`,
          type,
          accountId,
          options.ownerId,
          afterId,
          options.limit,
        );
      return Promise.resolve(rows.map((r) => ({
        id: Number(r.id),
        type,
        accountId,
        objectId: Number(r.object_id),
        kind: KIND_NAME[Number(r.kind)],
        ...(Number(r.counts_only) === 1 ? { countsOnly: true } : {}),
      })));
    },
  };
}
