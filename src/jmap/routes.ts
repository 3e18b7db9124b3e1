/** HTTP routes of the JMAP surface: session discovery, the API endpoint and the schema document. */
import type { AccountService } from "../directory/mod.ts";
import { WRITE_RIGHTS } from "../model/mail.ts";
import {
  HttpError,
  parseJson,
  problemResponse,
  readBody,
  type RequestContext,
  type Route,
} from "../http/mod.ts";
import type { Logger } from "@logtape/logtape";
import type { MailboxService } from "../mail/mod.ts";
import type { Account, Principal } from "../model/types.ts";
import type { JmapEngine } from "./engine.ts";
import { RequestError } from "./errors.ts";
import type { SchemaDocument } from "./schema.ts";
import { buildSession, type SessionOptions, type SharedAccount } from "./session.ts";
import type { CoreCapability } from "./types.ts";
import type { LiveCredentials } from "./push/live_credentials.ts";
import type { PushHub } from "./push/push_hub.ts";
import type { TicketDeps } from "./push/ticket_route.ts";
import { webSocketRoute } from "./push/websocket.ts";

/** What the JMAP routes use. */
export interface JmapRouteDeps {
  engine: JmapEngine;
  accounts: AccountService;
  mailboxes: MailboxService;
  core: CoreCapability;
  mail: SessionOptions["mail"];
  submission: SessionOptions["submission"];
  schema: SchemaDocument;
  log: Logger;
  /** Counts shared accounts the session skipped because they no longer resolve. */
  skipped: { count: number };
  /** Listeners of state changes, for the WebSocket route's push. */
  push: PushHub;
  /** Open connections' credential checks, for the WebSocket route. */
  live: LiveCredentials;
  /** Tickets, for browsers' WebSockets. */
  tickets: TicketDeps;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The route table of the JMAP surface. */
export function jmapRoutes(deps: JmapRouteDeps): Route<RequestContext>[] {
  const inFlight = new Map<number, number>();
  // The session only changes with the account (a new cached object after any change, sharing changes
  // included: they send an account event to every grantee) or the base URL: remember its JSON and
  // state per account object instead of rebuilding it for every request (figure 9 of
  // `deno task bench --only session`: a user with 50 shared accounts).
  const sessions = new WeakMap<Account, Map<string, { state: string; body: string }>>();
  const warned = new Set<number>();
  // A tolerant reader: a shared account that no longer resolves (a stale grant) is
  // skipped, logged once and counted; the session still answers.
  const skip = (accountId: number) => (ownerId: number) => {
    deps.skipped.count++;
    if (warned.has(ownerId)) return;
    warned.add(ownerId);
    deps.log.warn("Session of {accountId} skips shared account {ownerId}: it does not exist", {
      accountId,
      ownerId,
    });
  };
  const sharedAccounts = async (principal: Principal): Promise<SharedAccount[]> => {
    const out: SharedAccount[] = [];
    const shared = await deps.mailboxes.sharedAccounts(principal.accountId, skip(principal.accountId));
    for (const [ownerId, rights] of shared) {
      // Resolved a moment ago; a deletion in between is skipped like any other missing account.
      const owner = deps.accounts.peek(ownerId) ?? await deps.accounts.get(ownerId);
      if (owner) out.push({ account: owner, readOnly: (rights & WRITE_RIGHTS) === 0 });
      else skip(principal.accountId)(ownerId);
    }
    return out;
  };
  // A scoped credential sees fewer capabilities (src/jmap/session.ts), so its session is cached apart.
  const sessionKey = (ctx: RequestContext, principal: Principal) =>
    principal.scopes ? `${ctx.baseUrl} ${principal.scopes.join(" ")}` : ctx.baseUrl;
  const session = async (ctx: RequestContext, principal: Principal, account?: Account) =>
    buildSession(principal, account ?? await deps.accounts.require(principal.accountId), {
      baseUrl: ctx.baseUrl,
      ticketLifetimeMs: deps.tickets.tickets.lifetimeMs,
      core: deps.core,
      mail: deps.mail,
      submission: deps.submission,
      shared: await sharedAccounts(principal),
    });
  const built = async (ctx: RequestContext, principal: Principal, account: Account) => {
    let byUrl = sessions.get(account);
    if (!byUrl) sessions.set(account, byUrl = new Map());
    let entry = byUrl.get(sessionKey(ctx, principal));
    if (!entry) {
      const resource = await session(ctx, principal, account);
      entry = { state: resource.state, body: JSON.stringify(resource) };
      byUrl.set(sessionKey(ctx, principal), entry);
    }
    return entry;
  };
  const sessionState = (ctx: RequestContext, principal: Principal): string | Promise<string> => {
    const account = deps.accounts.peek(principal.accountId);
    const known = account && sessions.get(account)?.get(sessionKey(ctx, principal));
    if (known !== undefined) return known.state;
    if (account) return built(ctx, principal, account).then((e) => e.state);
    return deps.accounts.require(principal.accountId).then((loaded) => built(ctx, principal, loaded))
      .then((e) => e.state);
  };
  const api = async (ctx: RequestContext) => {
    // Awaiting values that are already there costs a microtask each: a cached login and a request of
    // synchronous methods (Core/echo, most management reads) only wait for the body.
    const known = ctx.principal();
    const principal = known instanceof Promise ? await known : known;
    // Counted per process: the limit keeps one account from holding this event loop (SQLite work runs
    // on it) and its read workers (src/store/read_pool.ts, which also takes accounts' queries in turn),
    // which are per process too. With several processes (`postern serve --processes N`) an account
    // may hold the limit in each, but a client keeping to the session's maxConcurrentRequests is never
    // refused, whichever processes the kernel gives its connections to.
    const running = inFlight.get(principal.accountId) ?? 0;
    if (running >= deps.core.maxConcurrentRequests) {
      return requestError(
        new RequestError(
          "limit",
          `More than ${deps.core.maxConcurrentRequests} concurrent requests for this account`,
          { limit: "maxConcurrentRequests" },
        ),
        ctx,
      );
    }
    inFlight.set(principal.accountId, running + 1);
    try {
      const body = await readRequest(ctx, deps.core.maxSizeRequest);
      const processed = deps.engine.process(body, {
        principal,
        baseUrl: ctx.baseUrl,
        sessionState: () => sessionState(ctx, principal),
      });
      const response = processed instanceof Promise ? await processed : processed;
      return ctx.json(response, { headers: { "cache-control": "no-store" } });
    } catch (error) {
      if (error instanceof RequestError) return requestError(error, ctx);
      throw error;
    } finally {
      const left = (inFlight.get(principal.accountId) ?? 1) - 1;
      if (left <= 0) inFlight.delete(principal.accountId);
      else inFlight.set(principal.accountId, left);
    }
  };
  return [
    {
      method: "GET",
      path: "/.well-known/jmap",
      handler: (ctx) =>
        new Response(null, { status: 307, headers: { location: `${ctx.baseUrl}/jmap/session` } }),
    },
    {
      method: "GET",
      path: "/jmap/session",
      handler: async (ctx) => {
        const principal = await ctx.principal();
        const account = deps.accounts.peek(principal.accountId) ??
          await deps.accounts.require(principal.accountId);
        const { body } = await built(ctx, principal, account);
        return new Response(body, {
          headers: { "content-type": "application/json", "cache-control": "no-store" },
        });
      },
    },
    { method: "POST", path: "/jmap", handler: api },
    webSocketRoute({
      engine: deps.engine,
      hub: deps.push,
      core: deps.core,
      log: deps.log,
      sessionState,
      live: deps.live,
      tickets: deps.tickets,
    }),
    { method: "POST", path: "/jmap/", name: "/jmap", handler: api },
    {
      method: "GET",
      path: "/api/schema",
      handler: async (ctx) => {
        await ctx.principal();
        const headers = { etag: deps.schema.etag, "cache-control": "private, max-age=0, must-revalidate" };
        const match = ctx.request.headers.get("if-none-match");
        // Weak comparison (RFC 9110 §13.1.2): a compressed answer carried the tag as W/"…".
        const tags = match?.split(",").map((s) => s.trim().replace(/^W\//, "")) ?? [];
        if (tags.includes(deps.schema.etag) || tags.includes("*")) {
          return new Response(null, { status: 304, headers });
        }
        return new Response(deps.schema.body, {
          headers: { ...headers, "content-type": "application/json" },
        });
      },
    },
  ];
}

/** Reads the request body as JSON; problems are JMAP request-level errors. */
async function readRequest(ctx: RequestContext, maxSize: number): Promise<unknown> {
  // RFC 8620 §3.1: the request is application/json. Nothing else is read, text/plain and no type
  // included: those are what a cross-site HTML form sends, with the browser's cached Basic credentials.
  const type = ctx.request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new RequestError(
      "notJSON",
      `The request body must be application/json, not ${type ? `"${type}"` : "untyped"}`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBody(ctx.request, maxSize);
  } catch (error) {
    if (error instanceof HttpError && error.status === 413) {
      throw new RequestError("limit", `The request exceeds maxSizeRequest (${maxSize} bytes)`, {
        limit: "maxSizeRequest",
      });
    }
    throw error;
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new RequestError("notJSON", "The request body is not valid UTF-8");
  }
  try {
    return parseJson(text);
  } catch (error) {
    throw new RequestError("notJSON", `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

function requestError(error: RequestError, ctx: RequestContext): Response {
  return problemResponse(error.status, error.message, {
    type: error.uri,
    extensions: { ...error.extra, requestId: ctx.requestId },
  });
}
