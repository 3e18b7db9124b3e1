/** JMAP errors at their three levels (RFC 8620 §3.6). */
import type { MethodErrorType, SetError, SetErrorType } from "./types.ts";

export type { MethodErrorType, SetErrorType } from "./types.ts";

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

/** Builds a SetError. */
export function setError(
  type: SetErrorType,
  description: string,
  extra: Record<string, unknown> = {},
): SetError {
  return { type, description, ...extra };
}
