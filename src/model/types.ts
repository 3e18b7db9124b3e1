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

/**
 * What the MX does with mail to a domain that fails its sender's DMARC check (RFC 7489 §6.3 p=):
 * `enforce` follows the sender's policy (reject refused at DATA, quarantine filed in Junk),
 * `quarantineOnly` files both in Junk, `monitor` delivers to the Inbox and only records the result.
 */
export type DmarcEnforcement = "enforce" | "quarantineOnly" | "monitor";

/** The values of {@link DmarcEnforcement}, in order of strictness. */
export const DMARC_ENFORCEMENTS: readonly DmarcEnforcement[] = ["enforce", "quarantineOnly", "monitor"];

/**
 * The mode of the MTA-STS policy this server publishes for a domain (RFC 8461 §3.2): `testing`
 * (the default: senders report TLS failures but still deliver, the safe start for a new policy),
 * `enforce` (senders refuse to deliver without valid TLS to the listed MX), or `none` (the policy
 * is withdrawn: senders forget it).
 */
export type MtaStsMode = "enforce" | "testing" | "none";

/** The values of {@link MtaStsMode}. */
export const MTA_STS_MODES: readonly MtaStsMode[] = ["testing", "enforce", "none"];

/** A domain that accounts and addresses live in. */
export interface Domain {
  id: number;
  name: string;
  description: string | null;
  /** What incoming mail failing DMARC gets (see {@link DmarcEnforcement}). */
  dmarcEnforcement: DmarcEnforcement;
  /** The address that receives mail for unknown addresses of this domain, or null. */
  catchAll: string | null;
  /** The mode of the MTA-STS policy published for it (see {@link MtaStsMode}). */
  mtaStsMode: MtaStsMode;
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
  /** Those of `memberGroupIds` whose addresses it may send as (granted by an administrator). */
  sendAsGroupIds: number[];
  /** Addresses elsewhere that the account's incoming mail is forwarded to (mail/forwarding.ts). */
  forwardTo: string[];
  /** Whether forwarded mail is also kept in the account (true unless the account says otherwise). */
  forwardKeepCopy: boolean;
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
  /** The app password, API key or (for access tokens) token family behind the request. */
  credentialId: number | null;
  /** OAuth scopes of an access token; absent for credentials that carry every right of the account. */
  scopes?: readonly string[];
  /** The OAuth client an access token was issued to. */
  clientId?: string;
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
  /** An OAuth client changed or was deleted. */
  | { kind: "oauthClient"; clientId: number }
  /** A token family was revoked: its access tokens stop working. */
  | { kind: "oauthGrant"; grantId: number; accountId: number }
  /** The ID-token signing keys changed (a rotation): reload them. */
  | { kind: "signingKeys" }
  /** Everything. */
  | { kind: "all" }
  /** Only the negative entries of every namespace. */
  | { kind: "negative" };

/** What happened to an object. */
export type ChangeKind = "created" | "updated" | "destroyed";

/** One entry of the change log. */
export interface Change {
  type: string;
  objectId: number;
  kind: ChangeKind;
  /** Owning account for per-account data; null for directory-wide types. */
  accountId: number | null;
  /** For directory-wide types, the account the object belongs to (non-admins see only theirs). */
  ownerId?: number | null;
  /**
   * An update that changed only counts (a Mailbox's totalEmails, unreadEmails, totalThreads,
   * unreadThreads, as an email comes, goes or is read), so Mailbox/changes can say so in
   * updatedProperties (RFC 8621 §2.2).
   */
  countsOnly?: boolean;
}

/** A write that logs its invalidation events and changes in its own transaction, then applies the events. */
export type LoggedWrite = <T>(
  body: () => Promise<{ result: T; events: InvalidationEvent[]; changes: Change[] }>,
) => Promise<T>;

/** A logged change with its position. */
export interface LoggedChange extends Change {
  id: number;
}

/** A filter tree: conditions combined with AND, OR and NOT (the shape of JMAP's FilterOperator). */
export type ConditionTree<C> = C | { operator: "AND" | "OR" | "NOT"; conditions: ConditionTree<C>[] };

/** Conditions an account search understands; all given fields must match. */
export interface AccountCondition {
  id?: number;
  name?: string;
  text?: string;
  type?: AccountType;
  domainId?: number;
  memberOf?: number;
  enabled?: boolean;
  emailAddress?: string;
}

/** Orderings an account search understands. */
export type AccountSortProperty = "id" | "name" | "emailAddress" | "description" | "createdAt" | "updatedAt";

/** A paged, ordered account search. */
export interface AccountSearch {
  filter: ConditionTree<AccountCondition> | null;
  sort: { property: AccountSortProperty; ascending: boolean }[];
  /** Start index; negative counts from the end. Ignored when `anchorId` is set. */
  position: number;
  anchorId?: number;
  anchorOffset?: number;
  limit: number;
  count: boolean;
}

/** The page an account search returns; `anchorFound` is false when the anchor is not in the results. */
export interface AccountSearchResult {
  ids: number[];
  position: number;
  total?: number;
  anchorFound: boolean;
}
