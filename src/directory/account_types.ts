/** The account service's input and output types, and the change-log helper of directory writes. */
import type { AccountType, Change, InvalidationEvent, Quotas, Role } from "./deps.ts";

/** What hashing the directory needs; the worker-pool hasher implements it. */
export interface PasswordHashing {
  hash(password: string): Promise<string>;
  verify(phc: string, password: string): Promise<boolean>;
  /** Whether an imported hash is one `verify` can use (format and parameter bounds). */
  isUsableHash(phc: string): boolean;
}

/** Validated input for creating an account (ids already decoded). */
export interface AccountInput {
  type: AccountType;
  name: string;
  domainId: number;
  description?: string | null;
  locale?: string | null;
  aliases?: string[];
  password?: string | null;
  /** With a new (or removed) password: revoke the account's app passwords too. They stay otherwise. */
  revokeAppPasswords?: boolean;
  quotas?: Quotas;
  roles?: Role[];
  memberGroupIds?: number[];
  /** Of `memberGroupIds` (after the change), the groups whose addresses the account may send as. */
  sendAsGroupIds?: number[];
  /** Addresses elsewhere to forward incoming mail to (see forwarding.ts). */
  forwardTo?: string[];
  forwardKeepCopy?: boolean;
  enabled?: boolean;
}

/** What a write body returns: its result, the cache events and the change-log entries it causes. */
export interface WriteOutcome<T> {
  result: T;
  events: InvalidationEvent[];
  changes?: Change[];
}

/** A directory-wide change-log entry; `ownerId` is the account the object belongs to, if any. */
export function changed(
  type: string,
  objectId: number,
  kind: Change["kind"],
  ownerId: number | null = null,
): Change {
  return { type, objectId, kind, accountId: null, ownerId };
}

/** Options the account service needs from settings. */
export interface AccountServiceOptions {
  minPasswordLength: () => number;
}
