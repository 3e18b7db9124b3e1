/**
 * JMAP over WebSocket (RFC 8887): the subprotocol `jmap` at the session's websocket URL. A text
 * message `Request` is answered by a `Response` (or a `RequestError`) carrying its `requestId`;
 * `WebSocketPushEnable` starts StateChange pushes for the data types asked for, `WebSocketPushDisable`
 * stops them. A message that is not JSON, not an object or too large gets a RequestError and the
 * connection stays open, as RFC 8887 §4.3.4 has it; requests of one connection run one at a time.
 * Every message is authorised against the current state of the connection's credential, and a
 * credential that stops authenticating (password changed, account disabled, API key deleted, OAuth
 * grant revoked, token expired) closes the socket with 1008 (policy violation), see live_credentials.ts.
 * A server shutting down closes it with 1001 (going away).
 */
import type { Logger } from "@logtape/logtape";
import { ForbiddenError } from "../../model/errors.ts";
import type { Principal } from "../../model/types.ts";
import { HttpError, parseJson, type RequestContext, type Route } from "../../http/mod.ts";
import type { JmapEngine } from "../engine.ts";
import { RequestError } from "../errors.ts";
import { CAPABILITY, type CoreCapability } from "../types.ts";
import { PUSH_TYPES } from "./event_source.ts";
import type { LiveCredentials } from "./live_credentials.ts";
import type { PushHub } from "./push_hub.ts";
import { connectionCredential, type TicketDeps } from "./ticket_route.ts";

/** RFC 8887 §4: the WebSocket capability URI. */
export const WEBSOCKET_CAPABILITY = "urn:ietf:params:jmap:websocket";
/** The path of the websocket URL. */
export const WEBSOCKET_PATH = "/jmap/ws";

/** What the WebSocket route uses. */
export interface WebSocketDeps {
  engine: JmapEngine;
  log: Logger;
  hub: PushHub;
  core: CoreCapability;
  /** The caller's session state, as the API answers carry it. */
  sessionState(ctx: RequestContext, principal: Principal): string | Promise<string>;
  /** Keeps open connections' credentials checked. */
  live: LiveCredentials;
  /** Tickets, for browsers that cannot send an Authorization header. */
  tickets: TicketDeps;
}

/** RFC 6455 §7.4.1: the close code of a connection whose credential was revoked. */
export const POLICY_VIOLATION = 1008;
/** RFC 6455 §7.4.1: the close code of a connection whose server is shutting down. */
export const GOING_AWAY = 1001;

const PREFIX = "urn:ietf:params:jmap:error:";

/** The WebSocket route. */
export function webSocketRoute(deps: WebSocketDeps): Route<RequestContext> {
  return {
    method: "GET",
    path: WEBSOCKET_PATH,
    handler: async (ctx) => {
      if (ctx.request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        throw new HttpError(426, "This URL speaks JMAP over WebSocket (RFC 8887): upgrade to websocket", {
          headers: { upgrade: "websocket" },
        });
      }
      const credential = await connectionCredential(ctx, deps.tickets);
      const offered = (ctx.request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) =>
        p.trim()
      );
      if (!offered.includes("jmap")) {
        throw new HttpError(400, 'The WebSocket subprotocol must be "jmap" (Sec-WebSocket-Protocol: jmap)');
      }
      const { socket, response } = Deno.upgradeWebSocket(ctx.request, { protocol: "jmap" });
      serve(socket, { deps, ctx, ...credential });
      return response;
    },
  };
}

function serve(
  socket: WebSocket,
  call: { deps: WebSocketDeps; ctx: RequestContext; principal: Principal; authorization: string },
): void {
  const { deps, ctx } = call;
  let queue: Promise<void> = Promise.resolve();
  let stopPush: (() => void) | undefined;
  /** Closes the socket from the server's side, once it is open. */
  const closeWith = (code: number, reason: string) => {
    stopPush?.();
    stopPush = undefined;
    const close = () => socket.close(code, reason);
    if (socket.readyState === WebSocket.OPEN) close();
    else if (socket.readyState === WebSocket.CONNECTING) socket.addEventListener("open", close);
  };
  const watch = deps.live.watch({
    authorization: call.authorization,
    clientAddress: ctx.clientAddress,
    accountId: call.principal.accountId,
    revoked: () => closeWith(POLICY_VIOLATION, "The credential was revoked or has expired"),
    shutdown: () => closeWith(GOING_AWAY, "Server shutting down"),
  });
  const send = (message: unknown) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  };
  const requestError = (
    requestId: unknown,
    type: string,
    detail: string,
    extra: Record<string, unknown> = {},
  ) =>
    send({
      "@type": "RequestError",
      ...(typeof requestId === "string" ? { requestId } : {}),
      type: PREFIX + type,
      status: 400,
      detail,
      ...extra,
    });
  const handle = async (data: unknown) => {
    // Authorised against the credential's state now, through the same caches as an HTTP request.
    const principal = await watch.check();
    if (!principal) return;
    if (typeof data !== "string") {
      return requestError(undefined, "notJSON", "Binary messages are not JMAP: send text");
    }
    if (data.length > deps.core.maxSizeRequest) {
      return requestError(
        undefined,
        "limit",
        `The message exceeds maxSizeRequest (${deps.core.maxSizeRequest} bytes)`,
        {
          limit: "maxSizeRequest",
        },
      );
    }
    let message: Record<string, unknown>;
    try {
      message = parseJson(data) as Record<string, unknown>;
    } catch (error) {
      return requestError(undefined, "notJSON", `The message is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      return requestError(undefined, "notRequest", "The message must be a JSON object with an @type");
    }
    const { "@type": kind, id, ...rest } = message;
    if (id !== undefined && typeof id !== "string") {
      return requestError(undefined, "notRequest", '"id" must be a string');
    }
    switch (kind) {
      case "Request":
        try {
          const response = await deps.engine.process(rest, {
            principal,
            baseUrl: ctx.baseUrl,
            sessionState: () => deps.sessionState(ctx, principal),
          });
          return send({ "@type": "Response", ...(id === undefined ? {} : { requestId: id }), ...response });
        } catch (error) {
          if (error instanceof RequestError) return requestError(id, error.type, error.message, error.extra);
          throw error;
        }
      case "WebSocketPushEnable":
        return await enablePush(id, rest, principal);
      case "WebSocketPushDisable":
        stopPush?.();
        stopPush = undefined;
        return;
      default:
        return requestError(
          id,
          "notRequest",
          `Unknown @type ${JSON.stringify(kind)}: use Request, WebSocketPushEnable or WebSocketPushDisable`,
        );
    }
  };
  const enablePush = async (id: unknown, rest: Record<string, unknown>, principal: Principal) => {
    const dataTypes = rest.dataTypes;
    if (
      dataTypes !== undefined && dataTypes !== null &&
      !(Array.isArray(dataTypes) && dataTypes.every((t) => typeof t === "string" && PUSH_TYPES.includes(t)))
    ) {
      return requestError(id, "notRequest", `"dataTypes" must be null or a list of ${PUSH_TYPES.join(", ")}`);
    }
    if (principal.scopes && !principal.scopes.includes(CAPABILITY.mail)) {
      throw new ForbiddenError(`The access token's scopes do not allow push (it needs "${CAPABILITY.mail}")`);
    }
    stopPush?.();
    stopPush = await deps.hub.listen({
      accountId: principal.accountId,
      types: Array.isArray(dataTypes) ? new Set(dataTypes as string[]) : null,
      notify: (changed) => send({ "@type": "StateChange", changed }),
    });
  };
  socket.onmessage = (event) => {
    queue = queue.then(() => handle(event.data)).catch((error) => {
      if (error instanceof ForbiddenError) {
        send({ "@type": "RequestError", type: PREFIX + "forbidden", status: 403, detail: error.message });
      } else {
        send({
          "@type": "RequestError",
          type: PREFIX + "serverFail",
          status: 500,
          detail: "The server failed to process the message; the error has been logged",
        });
        deps.log.error("WebSocket message failed: {error}", { error });
      }
    });
  };
  const closed = () => {
    watch.stop();
    stopPush?.();
    stopPush = undefined;
  };
  socket.onclose = closed;
  socket.onerror = closed;
}
