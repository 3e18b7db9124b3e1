/** Grants of access between accounts. Every grant row cascades with both accounts. */
import type { AclGrant } from "../model/types.ts";
import type { Store } from "../store/mod.ts";

/** Grants given and held by accounts. */
export class GrantService {
  constructor(private readonly store: Store) {}

  /** Grants `rights` on `owner`'s object to `grantee` (replacing an earlier grant of the same object). */
  grant(grant: Omit<AclGrant, "id">): Promise<number> {
    return this.store.acl.grant(grant);
  }

  /** Removes a grant. */
  revoke(id: number): Promise<boolean> {
    return this.store.acl.revoke(id);
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
