/** The order in which a batch logs its changes (store/changes.ts writes a run of alike ones at once). */
import type { Change } from "./deps.ts";

const LIFECYCLE: Record<Change["kind"], number> = { created: 0, updated: 1, destroyed: 2 };

/**
 * A batch's changes with those alike but for their object next to each other, so the change log
 * writes each run in one statement (store/changes.ts) instead of a row per change: a batch logs
 * Email created, Thread created, Email created… per message. They commit together, so their order
 * shows nowhere but for one object, whose changes come created, updated, destroyed: sorting by type,
 * account and then in that order (a stable sort) keeps it. Email/import and inbound delivery both use it.
 */
export function groupedChanges(changes: Change[]): Change[] {
  return changes.sort((a, b) =>
    a.type !== b.type
      ? (a.type < b.type ? -1 : 1)
      : (a.accountId ?? 0) - (b.accountId ?? 0) || LIFECYCLE[a.kind] - LIFECYCLE[b.kind]
  );
}
