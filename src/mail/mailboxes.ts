/**
 * Mailboxes (RFC 8621 §2) and their sharing (RFC 9670): what a viewer may see and do in an account's
 * mailboxes, and every write with the rules of the data model (unique roles, sibling names, depth,
 * no cycles, no destroying a parent). Grants go to accounts or groups; a group's reach its members.
 * The grants themselves are written by mail/mailbox_sharing.ts.
 */
import type { AccountService } from "../directory/mod.ts";
import {
  ALL_RIGHTS,
  type Change,
  ForbiddenError,
  type LoggedWrite,
  type MailboxRecord,
  NotFoundError,
  QuotaError,
  rightBit,
  RuleError,
  type Store,
  type StoredMailboxGrant,
  WRITE_RIGHTS,
} from "./deps.ts";
import type { MailboxCounts } from "../store/mod.ts";
import {
  NOT_SHARED,
  replaceGrants,
  type Shared,
  sharingEvents,
  viewChange,
  visibleAt,
} from "./mailbox_sharing.ts";
import { checkName, checkPlacement } from "./mailbox_rules.ts";

/** A mailbox as one viewer sees it. */
export interface MailboxView extends MailboxRecord {
  /** Rights of the viewer (all of them for the owner). */
  rights: number;
  isSubscribed: boolean;
  /** Grants on this mailbox by grantee account id (owners and holders of mayShare only). */
  shareWith: Map<number, number> | null;
  /** Its emails and threads, read and unread (RFC 8621 §2), as the database keeps them. */
  counts: MailboxCounts;
}

const NO_EMAILS: MailboxCounts = { totalEmails: 0, unreadEmails: 0, totalThreads: 0, unreadThreads: 0 };

/** What a create or update asks for; absent fields are unchanged (update) or defaulted (create). */
export interface MailboxInput {
  name?: string;
  parentId?: number | null;
  role?: string | null;
  sortOrder?: number;
  isSubscribed?: boolean;
  /** Grantee account id → rights bitmask (0 removes); replaces the whole set. */
  shareWith?: Map<number, number> | null;
}

/** The viewer's standing in an account: the owner, or grantee of rights per mailbox. */
interface Access {
  owner: boolean;
  rights: Map<number, number>;
}

/** Mailbox reads and writes for a viewer. */
export class MailboxService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    /** Logs events and changes in the write's transaction and applies the events afterwards. */
    private readonly write: LoggedWrite,
  ) {}

  /** The ids a viewer's grants reach: their own and their groups'. */
  async granteeIds(viewerId: number): Promise<number[]> {
    const viewer = await this.accounts.get(viewerId);
    return viewer ? [viewerId, ...viewer.memberGroupIds] : [viewerId];
  }

  /**
   * Accounts whose mailboxes the viewer holds rights in, with the union of those rights. A grant whose
   * owner no longer resolves (a stale row) is reported through `onMissing` and left out.
   */
  async sharedAccounts(
    viewerId: number,
    onMissing: (ownerId: number) => void = () => {},
  ): Promise<Map<number, number>> {
    const shared = new Map<number, number>();
    for (const grant of await this.store.mailboxes.grantsHeld(await this.granteeIds(viewerId))) {
      if (grant.ownerId === viewerId) continue;
      shared.set(grant.ownerId, (shared.get(grant.ownerId) ?? 0) | grant.rights);
    }
    for (const ownerId of shared.keys()) {
      if (!(this.accounts.peek(ownerId) ?? await this.accounts.get(ownerId))) {
        shared.delete(ownerId);
        onMissing(ownerId);
      }
    }
    return shared;
  }

  /** The accounts and groups holding a grant on any mailbox of the owner (the owner's sharers). */
  async granteesOf(ownerId: number): Promise<Set<number>> {
    return new Set(
      (await this.store.mailboxes.grantsOf(ownerId)).filter((g) => g.rights > 0).map((g) => g.granteeId),
    );
  }

  /** Whether the viewer has any access to the account's mailboxes. */
  async canAccess(viewerId: number, accountId: number): Promise<{ readOnly: boolean } | undefined> {
    if (viewerId === accountId) return { readOnly: false };
    const rights = (await this.sharedAccounts(viewerId)).get(accountId);
    return rights === undefined ? undefined : { readOnly: (rights & WRITE_RIGHTS) === 0 };
  }

  /**
   * The viewer's rights on each mailbox of the account: every right on all of them for the owner,
   * the union of its own and its groups' grants otherwise (0 where nothing is granted).
   */
  async rightsIn(viewerId: number, accountId: number): Promise<(mailboxId: number) => number> {
    const access = await this.access(viewerId, accountId);
    return access.owner ? () => ALL_RIGHTS : (mailboxId) => access.rights.get(mailboxId) ?? 0;
  }

  /**
   * The mailboxes of an account the viewer can see, with its rights and nothing else (one read for
   * the owner): what naming a mailbox needs (an IMAP SELECT resolves its name from these).
   */
  async records(viewerId: number, accountId: number): Promise<Array<MailboxRecord & { rights: number }>> {
    return visibleOf(await this.access(viewerId, accountId), await this.store.mailboxes.list(accountId));
  }

  /** The mailboxes of an account the viewer can see. */
  async list(viewerId: number, accountId: number): Promise<MailboxView[]> {
    const access = await this.access(viewerId, accountId);
    const visible = visibleOf(access, await this.store.mailboxes.list(accountId));
    const subscribed = await this.store.mailboxes.subscribed(viewerId, accountId);
    const grants = await this.store.mailboxes.grantsOf(accountId);
    const counts = await this.store.emails.counts(visible.map((m) => m.id));
    return visible.map((m) => {
      const mayShare = (m.rights & rightBit("mayShare")) !== 0;
      return {
        ...m,
        isSubscribed: subscribed.has(m.id),
        counts: counts.get(m.id) ?? NO_EMAILS,
        shareWith: mayShare
          ? new Map(grants.filter((g) => g.mailboxId === m.id).map((g) => [g.granteeId, g.rights]))
          : null,
      };
    });
  }

  /** Creates a mailbox in an account. */
  async create(viewerId: number, accountId: number, input: MailboxInput): Promise<number> {
    const access = await this.access(viewerId, accountId);
    const all = await this.store.mailboxes.list(accountId);
    const parentId = input.parentId ?? null;
    if (!access.owner) {
      if (parentId === null) throw new ForbiddenError("Only the owner can create top-level mailboxes here");
      this.require(access, parentId, "mayCreateChild", "create a mailbox inside this one");
    }
    const name = checkName(input.name);
    const role = input.role ?? null;
    checkPlacement(all, { id: 0, parentId, name, role, accountId });
    const limit = (await this.accounts.get(accountId))?.quotas.maxMailboxes;
    if (limit !== undefined && all.length >= limit) {
      throw new QuotaError(`The account already has ${all.length} mailboxes, its limit (maxMailboxes)`);
    }
    if (input.shareWith && !access.owner) {
      throw new ForbiddenError("Only the owner can share a new mailbox");
    }
    return await this.write(async () => {
      const id = await this.store.mailboxes.insert({
        accountId,
        parentId,
        name,
        role,
        sortOrder: input.sortOrder ?? 0,
      });
      if (input.isSubscribed ?? viewerId === accountId) {
        await this.store.mailboxes.setSubscribed(viewerId, id, true);
      }
      // A child starts with its parent's grants (as IMAP servers do), so whoever could see and use
      // the parent, including a grantee who created the child, sees the child too.
      const inherited = parentId === null || input.shareWith ? undefined : new Map(
        (await this.store.mailboxes.grantsOf(accountId)).filter((g) => g.mailboxId === parentId)
          .map((g) => [g.granteeId, g.rights]),
      );
      const shareWith = input.shareWith ?? (inherited?.size ? inherited : undefined);
      const shared = shareWith ? await this.share(accountId, id, shareWith, viewerId) : NOT_SHARED;
      return {
        result: id,
        events: shared.events,
        changes: [...shared.changes, mailboxChange(id, "created", accountId)],
      };
    });
  }

  /** Updates a mailbox. */
  async update(viewerId: number, accountId: number, id: number, input: MailboxInput): Promise<void> {
    const access = await this.access(viewerId, accountId);
    const all = await this.store.mailboxes.list(accountId);
    const current = this.visible(access, all, id);
    const next = {
      ...current,
      name: input.name === undefined ? current.name : checkName(input.name),
      parentId: input.parentId === undefined ? current.parentId : input.parentId,
      role: input.role === undefined ? current.role : input.role,
      sortOrder: input.sortOrder ?? current.sortOrder,
    };
    const renamed = next.name !== current.name || next.parentId !== current.parentId;
    if (renamed) this.require(access, id, "mayRename", "rename or move this mailbox");
    if (next.parentId !== current.parentId && next.parentId !== null && !access.owner) {
      this.require(access, next.parentId, "mayCreateChild", "move a mailbox into that one");
    }
    if ((next.role !== current.role || next.sortOrder !== current.sortOrder) && !access.owner) {
      throw new ForbiddenError("Only the owner can change a mailbox's role or sort order");
    }
    if (input.shareWith !== undefined) {
      this.require(access, id, "mayShare", "change who this mailbox is shared with");
    }
    checkPlacement(all, next);
    await this.write(async () => {
      await this.store.mailboxes.update(id, next);
      if (input.isSubscribed !== undefined) {
        await this.store.mailboxes.setSubscribed(viewerId, id, input.isSubscribed);
      }
      const shared = input.shareWith !== undefined
        ? await this.share(accountId, id, input.shareWith ?? new Map(), viewerId)
        : NOT_SHARED;
      return {
        result: undefined,
        events: shared.events,
        changes: [...shared.changes, mailboxChange(id, "updated", accountId)],
      };
    });
  }

  /** Destroys a mailbox (never one with children; with emails only when asked to remove them). */
  async destroy(
    viewerId: number,
    accountId: number,
    id: number,
    options: { removeEmails?: boolean } = {},
  ): Promise<void> {
    const access = await this.access(viewerId, accountId);
    const all = await this.store.mailboxes.list(accountId);
    this.visible(access, all, id);
    this.require(access, id, "mayDelete", "delete this mailbox");
    if (all.some((m) => m.parentId === id)) {
      throw new RuleError("mailboxHasChild", "The mailbox has child mailboxes: move or destroy them first");
    }
    const emails = await this.store.emails.inMailbox(id);
    if (emails.length && !options.removeEmails) {
      throw new RuleError(
        "mailboxHasEmail",
        `The mailbox holds ${emails.length} emails: move them first, or destroy it with onDestroyRemoveEmails`,
      );
    }
    if (emails.length) this.require(access, id, "mayRemoveItems", "remove the emails of this mailbox");
    const grantees = (await this.store.mailboxes.grantsOf(accountId)).filter((g) => g.mailboxId === id);
    await this.write(async () => {
      // RFC 8621 §2.5: an email only in this mailbox is destroyed; one also elsewhere just leaves it.
      const changes: Change[] = [];
      for (const email of emails) {
        if (email.mailboxCount > 1) {
          changes.push({ type: "Email", objectId: email.id, kind: "updated", accountId });
          continue;
        }
        const { threadDeleted } = await this.store.emails.delete(email);
        changes.push(
          { type: "Email", objectId: email.id, kind: "destroyed", accountId },
          {
            type: "Thread",
            objectId: email.threadId,
            kind: threadDeleted ? "destroyed" : "updated",
            accountId,
          },
        );
      }
      await this.store.mailboxes.delete(id);
      return {
        result: undefined,
        events: await sharingEvents(this.accounts, grantees.map((g) => g.granteeId)),
        changes: [
          ...changes,
          ...grantees.filter((g) => g.rights !== 0).map((g) =>
            viewChange(id, "destroyed", accountId, g.granteeId)
          ),
          mailboxChange(id, "destroyed", accountId),
        ],
      };
    });
  }

  /**
   * Removes one grant from outside the mail protocol (an administrator's x:MailboxGrant/set destroy):
   * the same write as the owner taking the grantee out of `shareWith`, so the grantee is notified,
   * the owner's Mailbox/changes shows it and the sessions of those it reached are refreshed.
   * `changedById` is the administrator's account, or 0 for the system (the local CLI and TUI).
   */
  async removeGrant(grant: StoredMailboxGrant, changedById: number): Promise<void> {
    await this.write(async () => {
      const rest = new Map(
        (await this.store.mailboxes.grantsOf(grant.ownerId))
          .filter((g) => g.mailboxId === grant.mailboxId && g.granteeId !== grant.granteeId)
          .map((g) => [g.granteeId, g.rights]),
      );
      const shared = await this.share(grant.ownerId, grant.mailboxId, rest, changedById);
      return {
        result: undefined,
        events: shared.events,
        changes: [...shared.changes, mailboxChange(grant.mailboxId, "updated", grant.ownerId)],
      };
    });
  }

  private async access(viewerId: number, accountId: number): Promise<Access> {
    if (viewerId === accountId) return { owner: true, rights: new Map() };
    const rights = new Map<number, number>();
    for (const grant of await this.store.mailboxes.grantsHeld(await this.granteeIds(viewerId))) {
      if (grant.ownerId === accountId) {
        rights.set(grant.mailboxId, (rights.get(grant.mailboxId) ?? 0) | grant.rights);
      }
    }
    return { owner: false, rights };
  }

  private visible(access: Access, all: MailboxRecord[], id: number): MailboxRecord {
    const mailbox = all.find((m) => m.id === id);
    if (!mailbox || (!access.owner && !access.rights.get(id))) throw new NotFoundError("Mailbox", String(id));
    return mailbox;
  }

  private require(access: Access, id: number, right: Parameters<typeof rightBit>[0], action: string): void {
    if (access.owner) return;
    if (((access.rights.get(id) ?? 0) & rightBit(right)) === 0) {
      throw new ForbiddenError(`You may not ${action} (${right} is not granted)`);
    }
  }

  /**
   * Whether the viewer saw each mailbox of the account at change-log position `since`, for the
   * mailboxes whose visibility to it changed between `since` and `until` (mail/mailbox_sharing.ts).
   */
  async visibleAt(
    viewerId: number,
    accountId: number,
    since: number,
    until: number,
  ): Promise<Map<number, boolean>> {
    return await visibleAt(this.store, await this.granteeIds(viewerId), accountId, { since, until });
  }

  private async share(
    ownerId: number,
    mailboxId: number,
    shareWith: Map<number, number>,
    changedById: number,
  ): Promise<Shared> {
    return await replaceGrants(this.store, this.accounts, { ownerId, mailboxId, shareWith, changedById });
  }
}
function mailboxChange(id: number, kind: Change["kind"], accountId: number): Change {
  return { type: "Mailbox", objectId: id, kind, accountId };
}

/** The mailboxes `access` reaches, with their rights. */
function visibleOf(access: Access, all: MailboxRecord[]): Array<MailboxRecord & { rights: number }> {
  const visible = all.filter((m) => access.owner || (access.rights.get(m.id) ?? 0) !== 0);
  const ids = new Set(visible.map((m) => m.id));
  return visible.map((m) => ({
    ...m,
    // A shared child whose parent is not shared shows at the top of the tree.
    parentId: m.parentId !== null && ids.has(m.parentId) ? m.parentId : null,
    rights: access.owner ? ALL_RIGHTS : access.rights.get(m.id)!,
  }));
}
