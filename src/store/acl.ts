import type { AclGrant } from "../model/types.ts";
import type { Db, Row } from "./db.ts";

/** Persistence of access grants between accounts. */
export interface AclRepository {
  /** Creates or replaces the grant for (grantee, owner, object). */
  grant(grant: Omit<AclGrant, "id">): Promise<number>;
  revoke(id: number): Promise<boolean>;
  /** Grants held by an account (it is the grantee). */
  heldBy(granteeId: number): Promise<AclGrant[]>;
  /** Grants given by an account (it is the owner). */
  givenBy(ownerId: number): Promise<AclGrant[]>;
}

function toGrant(row: Row): AclGrant {
  return {
    id: Number(row.id),
    granteeId: Number(row.grantee_id),
    ownerId: Number(row.owner_id),
    objectType: String(row.object_type),
    objectId: Number(row.object_id) === 0 ? null : Number(row.object_id),
    rights: Number(row.rights),
  };
}

/** SQLite implementation of {@link AclRepository}. */
export function sqliteAcl(db: Db): AclRepository {
  return {
    grant(g) {
      const { id } = db.run(
        `INSERT INTO acl (grantee_id, owner_id, object_type, object_id, rights) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (grantee_id, owner_id, object_type, object_id) DO UPDATE SET rights = excluded.rights`,
        g.granteeId,
        g.ownerId,
        g.objectType,
        g.objectId ?? 0,
        g.rights,
      );
      return Promise.resolve(id);
    },
    revoke(id) {
      return Promise.resolve(db.run("DELETE FROM acl WHERE id = ?", id).changes > 0);
    },
    heldBy(granteeId) {
      return Promise.resolve(
        db.all("SELECT * FROM acl WHERE grantee_id = ? ORDER BY id", granteeId).map(toGrant),
      );
    },
    givenBy(ownerId) {
      return Promise.resolve(
        db.all("SELECT * FROM acl WHERE owner_id = ? ORDER BY id", ownerId).map(toGrant),
      );
    },
  };
}
