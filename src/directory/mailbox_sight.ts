import type { Change } from "../model/types.ts";
import type { Store } from "./deps.ts";

/**
 * The change-log type recording who came to see a shared mailbox or lost sight of it: written in the
 * owner's account with the viewer as owner_id, read back by MailboxService.visibleAt
 * (src/mail/mailboxes.ts), which writes it for grants and shares this name.
 */
export const MAILBOX_VIEW = "MailboxView";

/**
 * The change-log type recording that an account which shared mailboxes was deleted: one row in the
 * account of each grantee it shared with (an account or a group), with the deleted account as
 * object_id. The deleted account's own log goes with it, so this is the row that reaches those who
 * saw its mailboxes (push, IMAP IDLE); it is no JMAP type.
 */
export const SHARER_GONE = "SharerGone";

/**
 * What a change of an account's groups does to the mailboxes it sees through them (RFC 8621 §2.2 through
 * RFC 9670 sharing): a mailbox shared with a group it joins comes into view, one shared with a group it
 * leaves (or a group deleted) goes out of view, unless the account sees it through a grant of its own or
 * another group. For each, a MailboxView row for the account and an update of the mailbox in its owner's
 * account, so the owner's Mailbox state moves and the member's Mailbox/changes names it (created or
 * destroyed) instead of missing it.
 */
export async function membershipSightChanges(
  store: Store,
  accountId: number,
  groupsBefore: readonly number[],
  groupsAfter: readonly number[],
): Promise<Change[]> {
  const before = new Set(groupsBefore);
  const after = new Set(groupsAfter);
  if (before.size === after.size && [...before].every((g) => after.has(g))) return [];
  const seen = async (groupIds: Set<number>) => {
    const mailboxes = new Map<number, number>();
    for (const holder of [accountId, ...groupIds]) {
      for (const grant of await store.acl.heldBy(holder)) {
        if (grant.objectType !== "Mailbox" || grant.objectId === null || grant.rights === 0) continue;
        if (grant.ownerId !== accountId) mailboxes.set(grant.objectId, grant.ownerId);
      }
    }
    return mailboxes;
  };
  const then = await seen(before);
  const now = await seen(after);
  const changes: Change[] = [];
  const sight = (mailboxId: number, ownerId: number, kind: "created" | "destroyed") => {
    changes.push({ type: MAILBOX_VIEW, objectId: mailboxId, kind, accountId: ownerId, ownerId: accountId });
    changes.push({ type: "Mailbox", objectId: mailboxId, kind: "updated", accountId: ownerId });
  };
  for (const [mailboxId, ownerId] of now) if (!then.has(mailboxId)) sight(mailboxId, ownerId, "created");
  for (const [mailboxId, ownerId] of then) if (!now.has(mailboxId)) sight(mailboxId, ownerId, "destroyed");
  return changes;
}
