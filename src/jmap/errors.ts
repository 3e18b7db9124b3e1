/** JMAP errors at their three levels (RFC 8620 §3.6). */
import type { SetError } from "./types.ts";

const PREFIX = "urn:ietf:params:jmap:error:";

/** A request-level error, answered as problem+json with a JMAP error type. */
export class RequestError extends Error {
  override name = "RequestError";
  constructor(
    readonly type: "unknownCapability" | "notJSON" | "notRequest" | "limit",
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly status = 400,
  ) {
    super(message);
  }

  /** The problem type URI. */
  get uri(): string {
    return PREFIX + this.type;
  }
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

/** A method-level error: the call answers `["error", {type, description}, callId]`. */
export class MethodError extends Error {
  override name = "MethodError";
  constructor(
    readonly type: MethodErrorType,
    message?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message ?? type);
  }

  /** The error's arguments object. */
  toArguments(): Record<string, unknown> {
    return { type: this.type, description: this.message, ...this.extra };
  }
}

/** A per-object error inside /set (RFC 8620 §5.3). */
export class SetErrorException extends Error {
  override name = "SetErrorException";
  constructor(readonly error: SetError) {
    super(error.description ?? error.type);
  }
}

/** Builds a SetError. */
export function setError(type: string, description: string, extra: Record<string, unknown> = {}): SetError {
  return { type, description, ...extra };
}
