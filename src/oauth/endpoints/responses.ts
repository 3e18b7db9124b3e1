/** Responses of the OAuth endpoints: JSON that is never cached, and errors in RFC 6749 §5.2 form. */
import { MisconfigurationError, UnavailableError } from "../deps.ts";
import { OAuthError } from "../errors.ts";

/** The headers that keep a token response out of every cache (RFC 6749 §5.1). */
export const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };

/** A JSON response with `Cache-Control: no-store` (RFC 6749 §5.1). */
export function oauthJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...NO_STORE, ...headers },
  });
}

/** The JSON error response of an OAuthError. */
export function oauthErrorResponse(error: OAuthError): Response {
  return oauthJson(error.toJson(), error.status, error.headers);
}

/**
 * Runs an endpoint whose failures are OAuth errors in JSON; a server that cannot work until it is
 * configured (an unreadable token key) answers `server_error` saying so; a database another process
 * holds answers 503 `temporarily_unavailable` with Retry-After; other errors propagate (a 500).
 */
export async function oauthEndpoint(run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof OAuthError) return oauthErrorResponse(error);
    if (error instanceof MisconfigurationError) {
      return oauthErrorResponse(new OAuthError("server_error", error.message, 500));
    }
    if (error instanceof UnavailableError) {
      return oauthErrorResponse(
        new OAuthError("temporarily_unavailable", error.message, 503, {
          "retry-after": String(error.retryAfterSeconds),
        }),
      );
    }
    throw error;
  }
}
