/**
 * Domain errors. Each surface maps them to its own wire form: problem+json, JMAP method or set errors,
 * OAuth error codes, CLI exit codes.
 */

/** A property-level problem, as JMAP's `invalidProperties` reports it. */
export interface PropertyProblem {
  property: string;
  message: string;
}

/** Base class so surfaces can tell domain errors from faults. */
export class DomainError extends Error {
  override name = "DomainError";
}

/** The object does not exist (or is not visible to the caller). */
export class NotFoundError extends DomainError {
  override name = "NotFoundError";
  constructor(readonly objectType: string, readonly id: string) {
    super(`${objectType} "${id}" does not exist`);
  }
}

/** The caller is authenticated but may not do this. */
export class ForbiddenError extends DomainError {
  override name = "ForbiddenError";
}

/** The write conflicts with existing data (a taken name, an object still in use). */
export class ConflictError extends DomainError {
  override name = "ConflictError";
  constructor(
    message: string,
    readonly kind: "alreadyExists" | "inUse" = "alreadyExists",
    readonly references: string[] = [],
    /** For "alreadyExists": the id of the object that is already there, when there is one. */
    readonly existingId?: number,
  ) {
    super(message);
  }
}

/** The input is invalid; `problems` names each offending property. */
export class InvalidInputError extends DomainError {
  override name = "InvalidInputError";
  constructor(message: string, readonly problems: PropertyProblem[] = []) {
    super(message);
  }
}

/** The error of one invalid property, its message naming the property. */
export function invalidProperty(property: string, message: string): InvalidInputError {
  return new InvalidInputError(`Invalid "${property}": ${message}`, [{ property, message }]);
}

/**
 * The server cannot do this until an administrator fixes its configuration (a key it cannot read):
 * a 500 that says so, never a 401 or a silent crash.
 */
export class MisconfigurationError extends DomainError {
  override name = "MisconfigurationError";
}

/** A write would go past one of the account's quotas. */
export class QuotaError extends DomainError {
  override name = "QuotaError";
}

/**
 * A resource the write needs is held elsewhere for now (another process holds the database's write lock
 * past the busy timeout): the client should retry after `retryAfterSeconds`. Not a DomainError, so a
 * surface that does not know it treats it as a fault rather than as the client's mistake.
 */
export class UnavailableError extends Error {
  override name = "UnavailableError";
  constructor(message: string, readonly retryAfterSeconds = 1) {
    super(message);
  }
}

/** The realm of every challenge Postern sends (RFC 7235 §2.2), Basic and Bearer alike. */
export const REALM = 'realm="Postern"';

/** The Basic challenge (RFC 7617 §2.1): Postern's realm, credentials in UTF-8. */
export const BASIC_CHALLENGE = `Basic ${REALM}, charset="UTF-8"`;

/** Authentication failed: credentials missing, malformed or wrong. The only cause of a 401. */
export class AuthError extends Error {
  override name = "AuthError";
  constructor(
    message: string,
    readonly reason: "missing" | "invalid" | "malformed" | "rateLimited" | "disabled",
    readonly scheme: "Basic" | "Bearer" | undefined,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** The data-model rules a write can break, named as RFC 8620 §5.3 and RFC 8621 name their SetErrors. */
export type RuleName =
  | "forbidden"
  | "tooLarge"
  | "alreadyExists"
  | "blobNotFound"
  | "mailboxHasChild"
  | "mailboxHasEmail"
  | "forbiddenFrom"
  | "forbiddenMailFrom"
  | "tooManyRecipients"
  | "noRecipients"
  | "invalidRecipients"
  | "cannotUnsend";

/**
 * A write refused by a rule of the protocol's data model, with the rule's own error name (e.g.
 * `mailboxHasChild`, RFC 8621 §2.5): surfaces report it under that name.
 */
export class RuleError extends DomainError {
  override name = "RuleError";
  constructor(readonly rule: RuleName, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}
