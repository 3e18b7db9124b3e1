/** How the standard methods learn states and changes (the directory's ChangeService implements it). */
import type { LoggedChange } from "../../model/types.ts";

/** State strings and change feeds by change-log type and scope. */
export interface ChangeFeed {
  state(type: string, accountId: number | null): Promise<string>;
  since(
    type: string,
    accountId: number | null,
    state: string,
    options: { limit: number; ownerId?: number },
  ): Promise<LoggedChange[] | undefined>;
}

/** Object ids grouped as /changes reports them, never overlapping (RFC 8620 §5.2). */
export interface ChangeSummary {
  created: number[];
  updated: number[];
  destroyed: number[];
  /** Position of the last change taken. */
  lastPosition: number;
  hasMore: boolean;
  /** Every change taken was an update of counts only (see Change.countsOnly). */
  countsOnly: boolean;
}

/**
 * Folds log rows into created/updated/destroyed: created-then-destroyed vanishes, created-then-
 * updated is created, updated-then-destroyed is destroyed. Stops before exceeding `maxChanges`
 * distinct objects; the state it reaches is the position of the last row taken.
 */
export function summarize(rows: LoggedChange[], maxChanges: number, fromPosition: number): ChangeSummary {
  const first = new Map<number, LoggedChange["kind"]>();
  const last = new Map<number, LoggedChange["kind"]>();
  let lastPosition = fromPosition;
  let taken = 0;
  let countsOnly = true;
  for (const row of rows) {
    if (!first.has(row.objectId) && first.size >= maxChanges) break;
    if (!first.has(row.objectId)) first.set(row.objectId, row.kind);
    last.set(row.objectId, row.kind);
    lastPosition = row.id;
    taken++;
    if (!(row.kind === "updated" && row.countsOnly)) countsOnly = false;
  }
  const created: number[] = [];
  const updated: number[] = [];
  const destroyed: number[] = [];
  for (const [id, kind] of first) {
    const end = last.get(id)!;
    if (kind === "created") {
      if (end !== "destroyed") created.push(id);
    } else if (end === "destroyed") destroyed.push(id);
    else updated.push(id);
  }
  return { created, updated, destroyed, lastPosition, hasMore: taken < rows.length, countsOnly };
}
