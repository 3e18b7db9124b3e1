/** Grants of access between accounts. Every grant row cascades with both accounts. */
import type { AclGrant } from "../model/types.ts";
import type { Store } from "../store/mod.ts";

/** Grants given and held by accounts. */
export class GrantService {
  constructor(private readonly store: Store) {}

  /**
   * Grants `rights` on `owner`'s object to `grantee` (replacing an earlier grant of the same object),
   * as a bare row: no change-log row and no invalidation, so nobody's session or push hears of it. It
   * seeds raw ACL rows (tests of stale grants); sharing goes through MailboxService (Mailbox/set
   * shareWith, MailboxGrant delete), which logs and invalidates in the same transaction.
   */
  grant(grant: Omit<AclGrant, "id">): Promise<number> {
    return this.store.acl.grant(grant);
  }

  /** Grants an account holds. */
  heldBy(accountId: number): Promise<AclGrant[]> {
    return this.store.acl.heldBy(accountId);
  }

  /** Grants an account gives. */
  givenBy(accountId: number): Promise<AclGrant[]> {
    return this.store.acl.givenBy(accountId);
  }
}
