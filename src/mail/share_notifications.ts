/**
 * ShareNotification (RFC 9670): what a user is told when their rights on a shared mailbox change,
 * and how they read and dismiss it. Notifications are written by the sharing write itself, in its
 * transaction, so a change of rights and its notices commit (or fail) together.
 */
import type { AccountService } from "../directory/mod.ts";
import { encodeId } from "../model/ids.ts";
import type { ShareNotificationRecord } from "../store/mod.ts";
import { type Change, type LoggedWrite, NotFoundError, type Store } from "./deps.ts";

export type { ShareNotificationAuthor, ShareNotificationRecord } from "../store/mod.ts";

/** The change-log type of share notifications, kept per notified account. */
export const SHARE_NOTIFICATION_CHANGE = "ShareNotification";

/** One replacement of a mailbox's grants: who held which rights before and after (grantee → bits). */
export interface GrantChange {
  ownerId: number;
  mailboxId: number;
  /** The account that made the change (the owner, or a grantee holding mayShare). */
  changedById: number;
  before: ReadonlyMap<number, number>;
  after: ReadonlyMap<number, number>;
}

/** Reading and dismissing one's share notifications. */
export class ShareNotificationService {
  constructor(
    private readonly store: Store,
    /** Logs events and changes in the write's transaction and applies the events afterwards. */
    private readonly write: LoggedWrite,
  ) {}

  /** The notifications of an account, oldest first. */
  list(accountId: number): Promise<ShareNotificationRecord[]> {
    return this.store.shareNotifications.list(accountId);
  }

  /** Dismisses one notification of an account (RFC 9670: destroy is the only /set). */
  async destroy(accountId: number, id: number): Promise<void> {
    await this.write(async () => {
      if (!(await this.store.shareNotifications.delete(accountId, id))) {
        throw new NotFoundError("ShareNotification", encodeId(id));
      }
      return { result: undefined, events: [], changes: [notificationChange(id, "destroyed", accountId)] };
    });
  }
}

/**
 * Records a ShareNotification for every user whose rights on the mailbox (their `myRights`: their
 * own grant joined with their groups') changed, except the owner and the author of the change.
 * Members of a granted group are notified too, by choice: RFC 9670 says a server SHOULD NOT notify
 * for a change to a group's rights, but each member's `myRights` changes all the same. It also logs
 * the owner's account as updated: what grantees see of the owner's Principal (its `accounts`) may
 * have changed. Call inside the write's transaction.
 */
export async function recordRightsChange(
  store: Store,
  accounts: AccountService,
  change: GrantChange,
): Promise<void> {
  const { before, after } = change;
  const changed = [...new Set([...before.keys(), ...after.keys()])]
    .filter((id) => (before.get(id) ?? 0) !== (after.get(id) ?? 0));
  if (changed.length === 0) return;
  const users = new Set<number>();
  for (const granteeId of changed) {
    const grantee = await accounts.get(granteeId);
    if (grantee?.type === "Group") {
      for (const member of await accounts.query({ memberOf: granteeId })) users.add(member);
    } else if (grantee) users.add(granteeId);
  }
  const mailbox = await store.mailboxes.get(change.mailboxId);
  const author = await accounts.get(change.changedById);
  const createdAt = Date.now();
  const changes: Change[] = [
    { type: "Account", objectId: change.ownerId, kind: "updated", accountId: null, ownerId: change.ownerId },
  ];
  for (const userId of users) {
    if (userId === change.ownerId || userId === change.changedById) continue;
    const user = await accounts.get(userId);
    if (user?.type !== "User") continue;
    const holders = [userId, ...user.memberGroupIds];
    const rightsIn = (grants: ReadonlyMap<number, number>) =>
      holders.reduce((bits, id) => bits | (grants.get(id) ?? 0), 0);
    const oldRights = rightsIn(before);
    const newRights = rightsIn(after);
    if (oldRights === newRights) continue;
    const id = await store.shareNotifications.insert({
      accountId: userId,
      createdAt,
      changedBy: author
        ? { id: author.id, name: author.description ?? author.name, email: author.primaryAddress }
        : { id: null, name: "Postern", email: null },
      objectType: "Mailbox",
      objectAccountId: change.ownerId,
      objectId: change.mailboxId,
      oldRights,
      newRights,
      name: mailbox?.name ?? "",
    });
    changes.push(notificationChange(id, "created", userId));
  }
  await store.changes.append(changes);
}

function notificationChange(id: number, kind: Change["kind"], accountId: number): Change {
  return { type: SHARE_NOTIFICATION_CHANGE, objectId: id, kind, accountId };
}
