import type { Logger } from "@logtape/logtape";
import {
  AuthError,
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
} from "../model/errors.ts";
import { HttpError, problemResponse } from "./problem.ts";

const REALM = 'realm="Postern"';

/**
 * Maps any thrown value to a problem+json response. 401 comes only from an AuthError, with the
 * challenge of the scheme the client used; anything unexpected is a logged 500, never a 401.
 */
export function errorResponse(error: unknown, requestId: string, log: Logger): Response {
  const ext = { requestId };
  if (error instanceof AuthError) return authErrorResponse(error, requestId);
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
  log.error("Unhandled error in request {requestId}: {error}", { requestId, error });
  return problemResponse(500, "The server failed to process the request; the error has been logged", {
    extensions: ext,
  });
}

function authErrorResponse(error: AuthError, requestId: string): Response {
  const ext = { requestId };
  const escaped = error.message.replaceAll('"', "'");
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
        headers: { "www-authenticate": `Basic ${REALM}, charset="UTF-8", Bearer ${REALM}` },
        extensions: ext,
      });
    default:
      return problemResponse(401, error.message, {
        headers: {
          "www-authenticate": error.scheme === "Bearer"
            ? `Bearer ${REALM}, error="invalid_token", error_description="${escaped}"`
            : `Basic ${REALM}, charset="UTF-8"`,
        },
        extensions: ext,
      });
  }
}
