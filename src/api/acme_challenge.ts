/**
 * The HTTP-01 answer (RFC 8555 §8.3): `GET /.well-known/acme-challenge/TOKEN` returns the key
 * authorization of a token while its order is pending, and nothing else — no authentication (the CA
 * asks anonymously), no listing, 404 for any other token. Served on the HTTP listener, where the CA
 * connects (port 80 in production).
 */
import { HttpError, type RequestContext, type Route } from "../http/mod.ts";

/** A token as CAs issue them: base64url, at least 128 bits (RFC 8555 §8.1). */
const TOKEN = /^[A-Za-z0-9_-]{22,256}$/;

/** The route answering HTTP-01 challenges from `keyAuthorization` (pending answers only). */
export function acmeChallengeRoutes(
  keyAuthorization: (token: string) => Promise<string | undefined>,
): Route<RequestContext>[] {
  return [{
    method: "GET",
    path: "/.well-known/acme-challenge/:token",
    name: "/.well-known/acme-challenge/:token",
    handler: async (_ctx, { token }) => {
      const answer = TOKEN.test(token) ? await keyAuthorization(token) : undefined;
      if (answer === undefined) throw new HttpError(404, "No pending ACME challenge has this token");
      return new Response(answer, {
        headers: { "content-type": "application/octet-stream", "cache-control": "no-store" },
      });
    },
  }];
}
