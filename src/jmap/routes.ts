/** HTTP routes of the JMAP surface: session discovery, the API endpoint and the schema document. */
import type { AccountService } from "../directory/mod.ts";
import {
  HttpError,
  jsonResponse,
  problemResponse,
  readBody,
  type RequestContext,
  type Route,
} from "../http/mod.ts";
import type { Account, Principal } from "../model/types.ts";
import type { JmapEngine } from "./engine.ts";
import { RequestError } from "./errors.ts";
import type { SchemaDocument } from "./schema.ts";
import { buildSession } from "./session.ts";
import type { CoreCapability } from "./types.ts";

/** What the JMAP routes use. */
export interface JmapRouteDeps {
  engine: JmapEngine;
  accounts: AccountService;
  core: CoreCapability;
  schema: SchemaDocument;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The route table of the JMAP surface. */
export function jmapRoutes(deps: JmapRouteDeps): Route<RequestContext>[] {
  const inFlight = new Map<number, number>();
  // The state only changes with the account (a new cached object after any change) or the base URL:
  // remember it per account object instead of rebuilding the session for every API request.
  const states = new WeakMap<Account, Map<string, string>>();
  const stateOf = (ctx: RequestContext, principal: Principal, account: Account): string => {
    let byUrl = states.get(account);
    if (!byUrl) states.set(account, byUrl = new Map());
    let state = byUrl.get(ctx.baseUrl);
    if (state === undefined) {
      state = buildSession(principal, account, { baseUrl: ctx.baseUrl, core: deps.core }).state;
      byUrl.set(ctx.baseUrl, state);
    }
    return state;
  };
  const sessionState = (ctx: RequestContext, principal: Principal): string | Promise<string> => {
    const account = deps.accounts.peek(principal.accountId);
    if (account) return stateOf(ctx, principal, account);
    return deps.accounts.require(principal.accountId).then((loaded) => stateOf(ctx, principal, loaded));
  };
  const session = async (ctx: RequestContext, principal: Principal) =>
    buildSession(principal, await deps.accounts.require(principal.accountId), {
      baseUrl: ctx.baseUrl,
      core: deps.core,
    });
  const api = async (ctx: RequestContext) => {
    // Awaiting values that are already there costs a microtask each: a cached login and a request of
    // synchronous methods (Core/echo, most management reads) only wait for the body.
    const known = ctx.principal();
    const principal = known instanceof Promise ? await known : known;
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
      handler: async (ctx) =>
        jsonResponse(await session(ctx, await ctx.principal()), { headers: { "cache-control": "no-store" } }),
    },
    { method: "POST", path: "/jmap", handler: api },
    { method: "POST", path: "/jmap/", name: "/jmap", handler: api },
    {
      method: "GET",
      path: "/api/schema",
      handler: async (ctx) => {
        await ctx.principal();
        const headers = { etag: deps.schema.etag, "cache-control": "private, max-age=0, must-revalidate" };
        const match = ctx.request.headers.get("if-none-match");
        if (match && match.split(",").map((s) => s.trim()).includes(deps.schema.etag)) {
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
  const type = ctx.request.headers.get("content-type");
  if (type && !/^application\/json\b/i.test(type) && !/^text\/plain\b/i.test(type)) {
    throw new RequestError("notJSON", `The request body must be application/json, not "${type}"`);
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
    return JSON.parse(text);
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
