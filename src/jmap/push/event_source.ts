/**
 * The session's `eventSourceUrl` (RFC 8620 §7.3): a text/event-stream of `state` events, each a
 * StateChange for the accounts the caller can see, `types` filtering them, `closeafter=state` ending
 * the response after the first one, `ping` keeping it alive. A reader that does not keep up never
 * makes the server buffer more than one event: later changes merge into the one waiting (a state
 * string is the newest state, so nothing is lost by merging). The stream ends as soon as the
 * credential it was opened with stops authenticating (see live_credentials.ts), and when the server
 * shuts down (an EventSource client reconnects to the next server on its own).
 */
import { ForbiddenError } from "../../model/errors.ts";
import { HttpError, type RequestContext, type Route } from "../../http/mod.ts";
import { CAPABILITY } from "../types.ts";
import type { LiveCredentials } from "./live_credentials.ts";
import type { Changed, PushHub } from "./push_hub.ts";
import { connectionCredential, type TicketDeps } from "./ticket_route.ts";

/** The data types a client can ask to hear about. */
export const PUSH_TYPES = ["Mailbox", "Email", "Thread", "ShareNotification", "EmailSubmission", "Identity"];
/** Longest ping interval accepted (seconds); RFC 8620 lets the server bound it. */
const MAX_PING = 3600;

const encoder = new TextEncoder();

/** Merges `changed` into `into`, the later state winning for each account and type. */
export function mergeChanged(into: Changed, changed: Changed): Changed {
  for (const [account, types] of Object.entries(changed)) into[account] = { ...into[account], ...types };
  return into;
}

/** The EventSource routes. */
export function eventSourceRoutes(
  deps: { hub: PushHub; live: LiveCredentials; tickets: TicketDeps },
): Route<RequestContext>[] {
  const handler = async (ctx: RequestContext) => {
    const { authorization, principal } = await connectionCredential(ctx, deps.tickets);
    if (principal.scopes && !principal.scopes.includes(CAPABILITY.mail)) {
      throw new ForbiddenError(`The access token's scopes do not allow push (it needs "${CAPABILITY.mail}")`);
    }
    const params = ctx.url.searchParams;
    const typesParam = single(params, "types") ?? "*";
    const types = typesParam === "*" ? null : new Set(typesParam.split(",").map((t) => t.trim()));
    for (const type of types ?? []) {
      if (!PUSH_TYPES.includes(type)) {
        throw new HttpError(
          400,
          `Unknown type "${type}" in types; use * or a list of ${PUSH_TYPES.join(", ")}`,
        );
      }
    }
    const closeafter = single(params, "closeafter") ?? "no";
    if (closeafter !== "state" && closeafter !== "no") {
      throw new HttpError(400, `closeafter must be "state" or "no", not "${closeafter}"`);
    }
    const pingText = single(params, "ping") ?? "0";
    const ping = /^\d{1,6}$/.test(pingText) ? Number(pingText) : NaN;
    if (!(ping >= 0 && ping <= MAX_PING)) {
      throw new HttpError(
        400,
        `ping must be a whole number of seconds from 0 to ${MAX_PING}, not "${pingText}"`,
      );
    }
    let pending: Changed | undefined;
    let stop: (() => void) | undefined;
    let pinger: ReturnType<typeof setInterval> | undefined;
    let closed = false;
    let flush = () => {};
    // Ends the stream from the server's side: the credential was revoked, or the server stops.
    let finish = () => {};
    const end = () => {
      if (closed) return;
      closed = true;
      watch.stop();
      stop?.();
      if (pinger !== undefined) clearInterval(pinger);
    };
    const watch = deps.live.watch({
      authorization,
      clientAddress: ctx.clientAddress,
      accountId: principal.accountId,
      revoked: () => finish(),
      shutdown: () => finish(),
    });
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        finish = () => {
          if (closed) return;
          end();
          controller.close();
        };
        flush = () => {
          if (closed || !pending || (controller.desiredSize ?? 0) <= 0) return;
          const data = JSON.stringify({ "@type": "StateChange", changed: pending });
          pending = undefined;
          controller.enqueue(encoder.encode(`event: state\ndata: ${data}\n\n`));
          if (closeafter === "state") {
            end();
            controller.close();
          }
        };
        stop = await deps.hub.listen({
          accountId: principal.accountId,
          types,
          notify(changed) {
            pending = mergeChanged(pending ?? {}, changed);
            flush();
          },
        });
        // Ended (revoked, or the reader went away) while the listener was being added.
        if (closed) return stop();
        if (ping > 0) {
          pinger = setInterval(() => {
            if (!closed && (controller.desiredSize ?? 0) > 0) {
              controller.enqueue(encoder.encode(`event: ping\ndata: {"interval":${ping}}\n\n`));
            }
          }, ping * 1000);
        }
      },
      pull() {
        flush();
      },
      cancel: end,
    }, { highWaterMark: 4 });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-cache, no-store",
        "x-accel-buffering": "no",
      },
    });
  };
  return [
    { method: "GET", path: "/jmap/eventsource/", name: "/jmap/eventsource", handler },
    { method: "GET", path: "/jmap/eventsource", name: "/jmap/eventsource", handler },
  ];
}

/** A query parameter given at most once (a repeated one is the client's mistake). */
function single(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw new HttpError(400, `The ${name} parameter is given ${all.length} times`);
  return all[0];
}
