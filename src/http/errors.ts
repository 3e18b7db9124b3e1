import type { Logger } from "@logtape/logtape";
import {
  AuthError,
  BASIC_CHALLENGE,
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  MisconfigurationError,
  NotFoundError,
  REALM,
  UnavailableError,
} from "../model/errors.ts";
import { HttpError, problemResponse } from "./problem.ts";

/** Where the protected-resource metadata is (RFC 9728 §3), named in Bearer challenges (§5.1). */
export const RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource";

/** What an error response is built with. */
export interface ErrorContext {
  requestId: string;
  log: Logger;
  /** The request's base URL, when known: Bearer challenges then name the resource metadata. */
  baseUrl?: string;
}

/**
 * Maps any thrown value to a problem+json response. 401 comes only from an AuthError, with the
 * challenge of the scheme the client used; anything unexpected is a logged 500, never a 401.
 */
export function errorResponse(error: unknown, context: ErrorContext): Response {
  const { requestId, log } = context;
  const ext = { requestId };
  if (error instanceof AuthError) return authErrorResponse(error, context);
  if (error instanceof HttpError) {
    return problemResponse(error.status, error.message, {
      ...error.options,
      extensions: { ...ext, ...error.options.extensions },
    });
  }
  if (error instanceof InvalidInputError) {
    return problemResponse(400, error.message, { extensions: { ...ext, errors: error.problems } });
  }
  if (error instanceof NotFoundError) return problemResponse(404, error.message, { extensions: ext });
  if (error instanceof ForbiddenError) return problemResponse(403, error.message, { extensions: ext });
  if (error instanceof ConflictError) {
    return problemResponse(409, error.message, {
      extensions: { ...ext, ...(error.references.length ? { references: error.references } : {}) },
    });
  }
  if (error instanceof UnavailableError) {
    // Not a fault: another process holds the database (a large import or repair); the client retries.
    log.info("Request {requestId} answered 503: {message}", { requestId, message: error.message });
    return problemResponse(503, error.message, {
      headers: { "retry-after": String(error.retryAfterSeconds) },
      extensions: ext,
    });
  }
  if (error instanceof MisconfigurationError) {
    // Explained to the client, logged in detail where it was found: not an unhandled fault.
    return problemResponse(500, error.message, { extensions: ext });
  }
  log.error("Unhandled error in request {requestId}: {error}", { requestId, error });
  return problemResponse(500, "The server failed to process the request; the error has been logged", {
    extensions: ext,
  });
}

function authErrorResponse(error: AuthError, context: ErrorContext): Response {
  const ext = { requestId: context.requestId };
  const escaped = error.message.replaceAll('"', "'");
  // RFC 9728 §5.1: a client that got no usable token learns where to find how to get one (last, after
  // RFC 6750's parameters).
  const metadata = context.baseUrl === undefined
    ? ""
    : `, resource_metadata="${context.baseUrl}${RESOURCE_METADATA_PATH}"`;
  switch (error.reason) {
    case "malformed": {
      // RFC 6750 §3.1: a malformed request is 400 invalid_request, not a 401.
      const headers: HeadersInit = error.scheme === "Bearer"
        ? { "www-authenticate": `Bearer ${REALM}, error="invalid_request", error_description="${escaped}"` }
        : {};
      return problemResponse(400, `Malformed Authorization header: ${error.message}`, {
        headers,
        extensions: ext,
      });
    }
    case "rateLimited":
      return problemResponse(429, error.message, {
        headers: { "retry-after": String(error.retryAfterSeconds ?? 1) },
        extensions: ext,
      });
    case "missing":
      return problemResponse(401, error.message, {
        headers: { "www-authenticate": `${BASIC_CHALLENGE}, Bearer ${REALM}${metadata}` },
        extensions: ext,
      });
    default:
      return problemResponse(401, error.message, {
        headers: {
          "www-authenticate": error.scheme === "Bearer"
            ? `Bearer ${REALM}, error="invalid_token", error_description="${escaped}"${metadata}`
            : BASIC_CHALLENGE,
        },
        extensions: ext,
      });
  }
}
