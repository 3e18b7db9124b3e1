/** Core domain types shared by every layer. No I/O here. */

/** The two kinds of directory account. */
export type AccountType = "User" | "Group";

/** Roles an account can hold; `admin` manages everything, `user` manages itself. */
export type Role = "admin" | "user";

/** Per-account limits; absent means unlimited. */
export interface Quotas {
  maxDiskQuota?: number;
  maxMailboxes?: number;
  maxAppPasswords?: number;
  maxApiKeys?: number;
}

/** A domain that accounts and addresses live in. */
export interface Domain {
  id: number;
  name: string;
  description: string | null;
  createdAt: number;
}

/** A directory account (user or group) with its addresses resolved. */
export interface Account {
  id: number;
  type: AccountType;
  name: string;
  domainId: number;
  domainName: string;
  description: string | null;
  locale: string | null;
  roles: Role[];
  quotas: Quotas;
  enabled: boolean;
  /** `name@domain`, always present. */
  primaryAddress: string;
  /** Further addresses that deliver to and log in as this account. */
  aliases: string[];
  /** Groups this account is a direct member of. */
  memberGroupIds: number[];
  /** Whether a password is set (app passwords and API keys are separate). */
  hasPassword: boolean;
  createdAt: number;
  updatedAt: number;
}

/** Kinds of stored credential. */
export type CredentialType = "Password" | "AppPassword" | "ApiKey";

/** A stored credential; `hash` never leaves the server. */
export interface Credential {
  id: number;
  accountId: number;
  type: CredentialType;
  description: string | null;
  hash: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

/** An access grant from `ownerId` to `granteeId`. */
export interface AclGrant {
  id: number;
  granteeId: number;
  ownerId: number;
  objectType: string;
  objectId: number | null;
  rights: number;
}

/** Who is making a request, once authenticated. */
export interface Principal {
  accountId: number;
  name: string;
  roles: Role[];
  /** How the caller proved who they are. */
  method: "password" | "appPassword" | "apiKey" | "accessToken";
  credentialId: number | null;
}

/**
 * A write's effect on caches. Applied at once by the writing process and appended to the
 * `invalidations` table in the same transaction, so other processes apply it too.
 */
export type InvalidationEvent =
  /** An account's names or addresses changed: `keys` are every login key before and after. */
  | { kind: "account"; accountId: number; keys: string[] }
  /** An account's credentials changed: drop verified headers and tokens of that account. */
  | { kind: "credentials"; accountId: number }
  /** A domain changed (name or existence). */
  | { kind: "domain"; domainId: number }
  /** A settings singleton changed. */
  | { kind: "settings"; name: string }
  /** Everything. */
  | { kind: "all" }
  /** Only the negative entries of every namespace. */
  | { kind: "negative" };
