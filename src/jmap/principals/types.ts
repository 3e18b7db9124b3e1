/** Wire types of JMAP Sharing (RFC 9670): capabilities, Principal, ShareNotification. No behaviour. */
import type { Id, JmapAccount } from "../types.ts";

/** RFC 9670: support for Principal and ShareNotification; `{}` in the session. */
export const PRINCIPALS_CAPABILITY = "urn:ietf:params:jmap:principals";

/** RFC 9670: an account capability naming the Principal that owns the account. */
export const PRINCIPALS_OWNER_CAPABILITY = "urn:ietf:params:jmap:principals:owner";

/** RFC 9670: the principals capability of an account. */
export interface PrincipalsAccountCapability {
  /** The Principal in this account that is the user fetching the session, if any. */
  currentUserPrincipalId: Id | null;
}

/** RFC 9670: who owns an account. */
export interface PrincipalsOwnerCapability {
  /** The account (with the principals capability) holding the owner's Principal object. */
  accountIdForPrincipal: Id;
  principalId: Id;
}

/** RFC 9670: the kinds of Principal. */
export type PrincipalKind = "individual" | "group" | "resource" | "location" | "other";

/** RFC 9670: a Principal. */
export interface PrincipalObject {
  id: Id;
  type: PrincipalKind;
  name: string;
  description: string | null;
  email: string | null;
  /** An IANA time zone id, or null when unknown. */
  timeZone: string | null;
  /** Capability URI → what the principal offers in relation to it. */
  capabilities: Record<string, unknown>;
  /** The accounts holding this principal's data that the user can access, as the session lists them. */
  accounts: Record<Id, JmapAccount> | null;
}

/** RFC 9670: who made a change. */
export interface Entity {
  name: string;
  email: string | null;
  principalId: Id | null;
}

/** RFC 9670: a change of the user's rights on a shared object. */
export interface ShareNotificationObject {
  id: Id;
  /** UTCDate (RFC 8620 §1.4). */
  created: string;
  changedBy: Entity;
  /** A JMAP data type name, e.g. "Mailbox". */
  objectType: string;
  objectAccountId: Id;
  objectId: Id;
  /** The object's `myRights` for the user before the change. */
  oldRights: Record<string, boolean> | null;
  /** The object's `myRights` for the user after the change. */
  newRights: Record<string, boolean> | null;
  /** The object's name when the notification was made. */
  name: string;
}
