/**
 * The `MailboxGrant` management type: every mailbox grant, read and revoked by administrators (users
 * see their grants on Mailbox/get `shareWith` and Principal/get, and change them with Mailbox/set).
 */
import type { AccountService, ObjectHandler } from "../directory/mod.ts";
import { serverMadeHandler } from "../directory/mod.ts";
import { encodeId } from "../model/ids.ts";
import { toKeyedList } from "../model/objects/mod.ts";
import { MAILBOX_RIGHTS, type MailboxRecord, type Store, type StoredMailboxGrant } from "./deps.ts";
import type { MailboxService } from "./mailboxes.ts";

/** The handler of `MailboxGrant` objects. */
export function mailboxGrantHandler(
  store: Store,
  accounts: AccountService,
  mailboxes: MailboxService,
): ObjectHandler {
  return serverMadeHandler<StoredMailboxGrant, Map<number, MailboxRecord[]>>({
    name: "MailboxGrant",
    adminsOnly:
      "Mailbox grants are managed by administrators; share your own mailboxes with Mailbox/set shareWith",
    madeBy: "MailboxGrant objects are made by sharing a mailbox (Mailbox/set shareWith)",
    read: (id) => store.mailboxes.grant(id),
    all: () => store.mailboxes.allGrants(),
    memo: () => new Map(),
    toWire: async (grant, trees) => {
      let tree = trees.get(grant.ownerId);
      if (!tree) trees.set(grant.ownerId, tree = await store.mailboxes.list(grant.ownerId));
      const [owner, grantee] = await Promise.all([
        accounts.get(grant.ownerId),
        accounts.get(grant.granteeId),
      ]);
      return {
        id: encodeId(grant.id),
        ownerId: encodeId(grant.ownerId),
        ownerName: owner?.name ?? null,
        mailboxId: encodeId(grant.mailboxId),
        mailboxName: mailboxPath(tree, grant.mailboxId),
        granteeId: encodeId(grant.granteeId),
        granteeName: grantee?.name ?? null,
        granteeType: grantee?.type ?? null,
        rights: toKeyedList(MAILBOX_RIGHTS.filter((_, bit) => (grant.rights & (1 << bit)) !== 0)),
      };
    },
    remove: (grant, caller) => mailboxes.removeGrant(grant, caller === "system" ? 0 : caller.accountId),
  });
}

/** "Projects/2026": the mailbox's name under its parents' (a missing parent ends the walk). */
function mailboxPath(tree: readonly MailboxRecord[], id: number): string | null {
  const byId = new Map(tree.map((m) => [m.id, m]));
  const names: string[] = [];
  for (
    let m = byId.get(id);
    m && names.length <= tree.length;
    m = m.parentId === null ? undefined : byId.get(m.parentId)
  ) {
    names.unshift(m.name);
  }
  return names.length ? names.join("/") : null;
}
