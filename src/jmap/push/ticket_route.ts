/**
 * Credentials of long-lived connections. A client that can send an Authorization header (any
 * non-browser client) opens the WebSocket or the event stream with it; a browser, which cannot, first
 * asks `POST /jmap/ws-ticket` (authenticated, `Content-Type: application/json`) for a ticket and passes
 * it as `?ticket=` on the WebSocket URL or the eventSourceUrl. The session advertises this under
 * {@link TICKET_CAPABILITY}.
 */
import { AuthError, ForbiddenError } from "../../model/errors.ts";
import type { Principal } from "../../model/types.ts";
import { HttpError, type RequestContext, type Route } from "../../http/mod.ts";
import type { TicketBook } from "./tickets.ts";

/** Postern's capability describing tickets (a vendor URI: RFC 8887's capability object is the RFC's). */
export const TICKET_CAPABILITY = "urn:postern:jmap:ticket";
/** Where tickets are issued. */
export const TICKET_PATH = "/jmap/ws-ticket";
/** The query parameter that carries a ticket. */
export const TICKET_PARAMETER = "ticket";

/** What the ticket route and connection authentication use. */
export interface TicketDeps {
  tickets: TicketBook;
  /** Authenticates an Authorization header value through the authenticator and its caches. */
  authenticate(authorization: string | null, clientAddress: string): Principal | Promise<Principal>;
  /** Origins allowed by --cors-origin ("*" for any); the server's own origin is always allowed. */
  corsOrigins: readonly string[];
}

/** The session's description of tickets. */
export function ticketCapability(baseUrl: string, lifetimeMs: number) {
  return {
    url: `${baseUrl}${TICKET_PATH}`,
    parameter: TICKET_PARAMETER,
    lifetimeSeconds: Math.round(lifetimeMs / 1000),
    usableWith: ["websocket", "eventSourceUrl"],
  };
}

/** A connection's credential: the Authorization it authenticates with, and who that is now. */
export interface ConnectionCredential {
  authorization: string;
  principal: Principal;
}

/**
 * The credential of a WebSocket or EventSource request: a `ticket` parameter when given (taken, so it
 * cannot serve twice, and its credential authenticated again now), else the Authorization header.
 */
export async function connectionCredential(
  ctx: RequestContext,
  deps: TicketDeps,
): Promise<ConnectionCredential> {
  const tickets = ctx.url.searchParams.getAll(TICKET_PARAMETER);
  if (tickets.length > 1) {
    throw new HttpError(400, `The ${TICKET_PARAMETER} parameter is given ${tickets.length} times`);
  }
  if (tickets.length === 0) {
    const principal = await ctx.principal();
    return { authorization: ctx.request.headers.get("authorization")!, principal };
  }
  const grant = deps.tickets.redeem(tickets[0]);
  // Bearer: a ticket is a bearer credential, and a Basic challenge would open a browser's login box.
  if (!grant) throw new AuthError("The ticket is unknown, already used or expired", "invalid", "Bearer");
  const principal = await deps.authenticate(grant.authorization, ctx.clientAddress);
  if (principal.accountId !== grant.accountId) {
    throw new AuthError("The ticket's credential now belongs to another account", "invalid", "Bearer");
  }
  return { authorization: grant.authorization, principal };
}

/** `POST /jmap/ws-ticket`: a single-use ticket for the caller's credential. */
export function ticketRoute(deps: TicketDeps): Route<RequestContext> {
  const any = deps.corsOrigins.includes("*");
  const allowed = new Set(deps.corsOrigins.map((o) => o.toLowerCase().replace(/\/$/, "")));
  return {
    method: "POST",
    path: TICKET_PATH,
    handler: async (ctx) => {
      // 1. Another site's page never gets a ticket: a cross-site request must come from an allowed
      // origin (the checks come before authentication, so such a request verifies no credential).
      const origin = ctx.request.headers.get("origin")?.toLowerCase();
      const sameOrigin = origin !== undefined && origin === ctx.baseUrl.toLowerCase();
      const listed = origin !== undefined && (any || allowed.has(origin));
      if (origin !== undefined && !sameOrigin && !listed) {
        throw new ForbiddenError(`Origin ${origin} may not obtain tickets (see --cors-origin)`);
      }
      const site = ctx.request.headers.get("sec-fetch-site");
      if (site === "cross-site" && !listed) {
        throw new ForbiddenError("A cross-site request may not obtain tickets (see --cors-origin)");
      }
      // 2. JSON only: a form cannot send it, and a script can only after a CORS preflight.
      const type = ctx.request.headers.get("content-type");
      if (!type || !/^application\/json\s*(;|$)/i.test(type)) {
        throw new HttpError(
          415,
          `Ask for a ticket with Content-Type: application/json, not ${type ?? "none"}`,
        );
      }
      // 3. Only an Authorization header proves who asks: a ticket never buys another ticket.
      if (ctx.url.searchParams.has(TICKET_PARAMETER)) {
        throw new HttpError(
          400,
          `A ticket is obtained with an Authorization header, not a ${TICKET_PARAMETER}`,
        );
      }
      const principal = await ctx.principal();
      await ctx.request.body?.cancel();
      const issued = deps.tickets.issue({
        authorization: ctx.request.headers.get("authorization")!,
        accountId: principal.accountId,
      });
      return ctx.json(
        { ticket: issued.ticket, expires: new Date(issued.expiresAt).toISOString().replace(/\.\d+Z$/, "Z") },
        { headers: { "cache-control": "no-store" } },
      );
    },
  };
}
