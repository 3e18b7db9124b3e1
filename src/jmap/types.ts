/** JMAP wire types (RFC 8620). Pure declarations; behaviour lives elsewhere. */

/** RFC 8620 §1.2: an Id is a string of 1–255 URL-safe base64 characters. */
export type Id = string;

/** RFC 8620 §3.2: [method name, arguments, method call id]. */
export type Invocation = [name: string, args: Record<string, unknown>, callId: string];

/** RFC 8620 §3.3: the request object. */
export interface JmapRequest {
  using: string[];
  methodCalls: Invocation[];
  createdIds?: Record<Id, Id>;
}

/** RFC 8620 §3.4: the response object. */
export interface JmapResponse {
  methodResponses: Invocation[];
  createdIds?: Record<Id, Id>;
  sessionState: string;
}

/** RFC 8620 §3.7: a back-reference to an earlier call's result. */
export interface ResultReference {
  resultOf: string;
  name: string;
  path: string;
}

/** RFC 8620 §5.5: a filter operator over conditions. */
export interface FilterOperator {
  operator: "AND" | "OR" | "NOT";
  conditions: Filter[];
}

/** A filter: an operator or a type-specific condition object. */
export type Filter = FilterOperator | Record<string, unknown>;

/** RFC 8620 §5.5: one sort criterion. */
export interface Comparator {
  property: string;
  isAscending?: boolean;
  collation?: string;
}

/** Method-level error types of RFC 8620 §3.6.2 and the standard methods (§5). */
export type MethodErrorType =
  | "serverUnavailable"
  | "serverFail"
  | "serverPartialFail"
  | "unknownMethod"
  | "invalidArguments"
  | "invalidResultReference"
  | "forbidden"
  | "accountNotFound"
  | "accountNotSupportedByMethod"
  | "accountReadOnly"
  | "requestTooLarge"
  | "stateMismatch"
  | "cannotCalculateChanges"
  | "anchorNotFound"
  | "unsupportedSort"
  | "unsupportedFilter"
  | "tooManyChanges";

/** The SetError types Postern answers: a closed list, so a misspelled one does not compile. */
export type SetErrorType =
  // RFC 8620 §5.3 (/set) and §5.4 (/copy).
  | "forbidden"
  | "overQuota"
  | "tooLarge"
  | "rateLimit"
  | "notFound"
  | "invalidPatch"
  | "willDestroy"
  | "invalidProperties"
  | "singleton"
  | "alreadyExists"
  // RFC 8621 §2.5 (Mailbox), §4.6 and §4.8 (Email), §7.5 (EmailSubmission).
  | "mailboxHasChild"
  | "mailboxHasEmail"
  | "blobNotFound"
  | "tooManyKeywords"
  | "tooManyMailboxes"
  | "invalidEmail"
  | "tooManyRecipients"
  | "noRecipients"
  | "invalidRecipients"
  | "forbiddenMailFrom"
  | "forbiddenFrom"
  | "forbiddenToSend"
  | "cannotUnsend"
  // Postern's: the object is still referenced (a domain with accounts), as Stalwart names it.
  | "objectIsLinked"
  // Postern's: a method-level error met by one object of a /set (e.g. a busy database after part of
  // the call was written, so only the rest is retried, RFC 8620 §3.6.2) keeps its method error type.
  | MethodErrorType;

/** RFC 8620 §5.3: a SetError. */
export interface SetError {
  type: SetErrorType;
  description?: string;
  properties?: string[];
  [extra: string]: unknown;
}

/** RFC 8620 §2: the session resource. */
export interface JmapSession {
  capabilities: Record<string, unknown>;
  accounts: Record<Id, JmapAccount>;
  primaryAccounts: Record<string, Id>;
  username: string;
  apiUrl: string;
  downloadUrl: string;
  uploadUrl: string;
  eventSourceUrl: string;
  state: string;
}

/** RFC 8620 §2: an account as listed in the session. */
export interface JmapAccount {
  name: string;
  isPersonal: boolean;
  isReadOnly: boolean;
  accountCapabilities: Record<string, unknown>;
}

/** RFC 8620 §2: the limits of the core capability. */
export interface CoreCapability {
  maxSizeUpload: number;
  maxConcurrentUpload: number;
  maxSizeRequest: number;
  maxConcurrentRequests: number;
  maxCallsInRequest: number;
  maxObjectsInGet: number;
  maxObjectsInSet: number;
  collationAlgorithms: string[];
}

/** RFC 8621 §1.3.1: the mail capability of an account. */
export interface MailAccountCapability {
  maxMailboxesPerEmail: number | null;
  maxMailboxDepth: number | null;
  maxSizeMailboxName: number;
  maxSizeAttachmentsPerEmail: number;
  emailQuerySortOptions: string[];
  mayCreateTopLevelMailbox: boolean;
}

/** Capability URIs. */
export const CAPABILITY = {
  core: "urn:ietf:params:jmap:core",
  /** RFC 8621 §1.3.1. */
  mail: "urn:ietf:params:jmap:mail",
  /** RFC 9425. */
  quota: "urn:ietf:params:jmap:quota",
  /** RFC 8621 §1.3.2: sending; its scope also lets a token move blobs (attachments). */
  submission: "urn:ietf:params:jmap:submission",
  /** RFC 8621 §1.3.3. */
  vacation: "urn:ietf:params:jmap:vacationresponse",
  /** Postern's management types (`x:` prefix); accepted even when a request does not list it. */
  management: "urn:postern:jmap",
} as const;
