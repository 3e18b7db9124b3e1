/**
 * The write side of mailbox sharing (RFC 9670): replacing a mailbox's grants, with what that tells the
 * grantees (session refreshes, their MailboxView history, share notifications), and reading that
 * history back. {@link MailboxService} decides who may share; this file does the sharing.
 */
import { type AccountService, MAILBOX_VIEW } from "../directory/mod.ts";
import {
  ALL_RIGHTS,
  type Change,
  type InvalidationEvent,
  InvalidInputError,
  type LoggedChange,
  type Store,
} from "./deps.ts";
import { recordRightsChange } from "./share_notifications.ts";

/** What a sharing write logs: the events that refresh sessions and the MailboxView changes. */
export interface Shared {
  events: InvalidationEvent[];
  changes: Change[];
}

/** A write that shared nothing. */
export const NOT_SHARED: Shared = { events: [], changes: [] };

/**
 * Replaces a mailbox's grants (inside the caller's write); returns the events that refresh the
 * grantees' sessions and the MailboxView changes of the grantees that start or stop seeing it.
 */
export async function replaceGrants(
  store: Store,
  accounts: AccountService,
  grant: { ownerId: number; mailboxId: number; shareWith: Map<number, number>; changedById: number },
): Promise<Shared> {
  const { ownerId, mailboxId, shareWith, changedById } = grant;
  const current = (await store.mailboxes.grantsOf(ownerId)).filter((g) => g.mailboxId === mailboxId);
  for (const granteeId of shareWith.keys()) {
    if (granteeId === ownerId) {
      throw new InvalidInputError("A mailbox cannot be shared with its owner", [
        { property: "shareWith", message: "the owner already has every right" },
      ]);
    }
    if (!(await accounts.get(granteeId))) {
      throw new InvalidInputError(`Cannot share with account ${granteeId}: it does not exist`, [
        { property: "shareWith", message: "no such account" },
      ]);
    }
  }
  for (const g of current) {
    if (!shareWith.has(g.granteeId)) await store.mailboxes.setGrant({ ...g, rights: 0 });
  }
  for (const [granteeId, rights] of shareWith) {
    await store.mailboxes.setGrant({ mailboxId, ownerId, granteeId, rights: rights & ALL_RIGHTS });
  }
  await recordRightsChange(store, accounts, {
    ownerId,
    mailboxId,
    changedById,
    before: new Map(current.map((g) => [g.granteeId, g.rights])),
    after: new Map([...shareWith].map(([granteeId, rights]) => [granteeId, rights & ALL_RIGHTS])),
  });
  const before = new Map(current.map((g) => [g.granteeId, g.rights !== 0]));
  const changes: Change[] = [];
  for (const granteeId of new Set([...before.keys(), ...shareWith.keys()])) {
    const sees = ((shareWith.get(granteeId) ?? 0) & ALL_RIGHTS) !== 0;
    if (sees !== (before.get(granteeId) ?? false)) {
      changes.push(viewChange(mailboxId, sees ? "created" : "destroyed", ownerId, granteeId));
    }
  }
  return {
    events: await sharingEvents(accounts, [...current.map((g) => g.granteeId), ...shareWith.keys()]),
    changes,
  };
}

/**
 * Sharing changed for these grantees: their sessions list other accounts now. An account event
 * drops the cached account, and with it the session state computed from it; a group's members too.
 */
export async function sharingEvents(
  accounts: AccountService,
  granteeIds: number[],
): Promise<InvalidationEvent[]> {
  const ids = new Set<number>();
  for (const id of granteeIds) {
    ids.add(id);
    const grantee = await accounts.get(id);
    if (grantee?.type === "Group") {
      for (const member of await accounts.query({ memberOf: id })) ids.add(member);
    }
  }
  return [...ids].map((accountId) => ({ kind: "account", accountId, keys: [] }));
}

/**
 * Whether the grantees (a viewer and its groups) saw each mailbox of the account at change-log
 * position `since`, for the mailboxes whose visibility to them changed between `since` and `until`;
 * any other mailbox was as visible then as it is now.
 */
export async function visibleAt(
  store: Store,
  granteeIds: number[],
  accountId: number,
  window: { since: number; until: number },
): Promise<Map<number, boolean>> {
  const rows: LoggedChange[] = [];
  for (const granteeId of granteeIds) {
    const logged = await store.changes.since(MAILBOX_VIEW, accountId, window.since, {
      limit: 100_000,
      ownerId: granteeId,
    });
    rows.push(...logged.filter((row) => row.id <= window.until));
  }
  const then = new Map<number, boolean>();
  // The first change in the window tells: lost sight of it (it saw it before), or came to see it.
  for (const row of rows.sort((a, b) => a.id - b.id)) {
    if (!then.has(row.objectId)) then.set(row.objectId, row.kind === "destroyed");
  }
  return then;
}

// MAILBOX_VIEW (src/directory/mailbox_sight.ts): the change-log type recording who came to see a mailbox
// (created) or lost sight of it (destroyed): in the owner's account, with the grantee (an account or a
// group) as owner_id. It is the history a grantee's Mailbox/changes needs (see {@link visibleAt}); it is
// no JMAP type. A write logs these before its Mailbox change, so the Mailbox state it ends at covers them.

/** A change of whether a grantee sees a mailbox. */
export function viewChange(
  mailboxId: number,
  kind: Change["kind"],
  accountId: number,
  granteeId: number,
): Change {
  return { type: MAILBOX_VIEW, objectId: mailboxId, kind, accountId, ownerId: granteeId };
}
