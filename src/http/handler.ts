import type { Logger } from "@logtape/logtape";
import { encodeId } from "../model/ids.ts";
import type { Principal } from "../model/types.ts";
import { type CompressionOptions, compressResponse, type ContentCoding, negotiate } from "./compression.ts";
import type { RequestContext } from "./context.ts";
import { Cors, type CorsOptions } from "./cors.ts";
import { errorResponse } from "./errors.ts";
import type { HttpMetrics } from "./metrics.ts";
import { HttpError, problemResponse } from "./problem.ts";
import {
  crossSiteWithAmbientCredentials,
  forwarded,
  HostCheck,
  hostOf,
  isLoopbackAddress,
  ProxyWarning,
  SAFE_METHODS,
} from "./request_origin.ts";
import { drainRefused, readJson } from "./request_body.ts";
import type { Router } from "./router.ts";

/** What the handler needs, passed in as functions so http/ imports no service. */
export interface HandlerOptions {
  router: Router<RequestContext>;
  /** A principal at once when the credentials are known (cached), else a promise of one. */
  authenticate(authorization: string | null, clientAddress: string): Principal | Promise<Principal>;
  /** Runs before each request (the cache coherence check); a promise when it must be waited for. */
  beforeRequest(): void | Promise<void>;
  trustedProxies: string[];
  maxBodyBytes: number;
  publicUrl?: string;
  /**
   * Host names (besides loopback ones) a request may name for the absolute URLs built from it when
   * there is no publicUrl: the configured domain and listen address. Any other Host (or forwarded
   * host) gets 421 from a route that needs an absolute URL, so a forged Host never reaches the
   * issuer, discovery documents or session URLs.
   */
  serverNames?: string[];
  metrics: HttpMetrics;
  log: Logger;
  /** Turns per-request info logs off (benchmarks compare against a bare server). */
  accessLog?: boolean;
  /** Cross-origin access for browser clients (none when absent). */
  cors?: CorsOptions;
  /** Compressed responses (compression.ts); none when absent. */
  compression?: CompressionOptions;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const NO_TRANSFORM = /\bno-transform\b/i;

// Request ids: a random prefix per process and a counter; unique across restarts and processes, and
// cheaper than a UUID per request.
const ID_PREFIX = crypto.getRandomValues(new Uint32Array(2)).reduce((s, n) => s + n.toString(36), "");
let idCounter = 0;
const nextRequestId = () => `${ID_PREFIX}-${(++idCounter).toString(36)}`;

/** Builds the one fetch handler: request ids, coherence check, routing, errors, logs, metrics. */
export function createHandler(
  options: HandlerOptions,
): (request: Request, info: Deno.ServeHandlerInfo) => Promise<Response> {
  const trusted = new Set(options.trustedProxies);
  const cors = options.cors && new Cors(options.cors);
  const tagged = new WeakSet<Response>();
  // ctx.json() responses that carry `Vary: Accept-Encoding` from the start (see Context.json).
  const varied = new WeakSet<Response>();
  const hosts = new HostCheck(options.serverNames ?? []);
  const proxyWarning = new ProxyWarning(options.log, trusted);
  return async (request, info) => {
    const started = performance.now();
    const incomingId = request.headers.get("x-request-id");
    const requestId = incomingId && REQUEST_ID.test(incomingId) ? incomingId : nextRequestId();
    const href = request.url;
    const path = pathOf(href);
    const remote = (info.remoteAddr as Deno.NetAddr).hostname ?? "unknown";
    const behindProxy = trusted.has(remote);
    // Three header lookups, made once for the proxy warning and the local check.
    const viaProxy = !behindProxy && forwarded(request.headers);
    if (viaProxy && !proxyWarning.given) proxyWarning.check(request.headers, remote);
    const clientAddress = behindProxy ? forwardedFor(request.headers, trusted) ?? remote : remote;
    // Not local when a proxy on this machine forwarded it: /metrics and the like stay closed to the world.
    const local = !behindProxy && !viaProxy && isLoopbackAddress(remote);
    let routeName = "unmatched";
    let baseUrl: string | undefined;
    let response: Response;
    let ctx: Context | undefined;
    try {
      if (cors?.enabled && cors.isPreflight(request)) {
        routeName = "preflight";
        response = cors.preflight(request);
        tagged.add(response);
        response.headers.set("x-request-id", requestId);
        options.metrics.observe(
          request.method,
          routeName,
          response.status,
          (performance.now() - started) / 1000,
        );
        return response;
      }
      const synced = options.beforeRequest();
      if (synced) await synced;
      const match = options.router.match(request.method, path);
      if (match.kind === "notFound") throw new HttpError(404, `No resource at ${path}`);
      if (match.kind === "methodNotAllowed") {
        throw new HttpError(405, `${request.method} is not allowed on ${path}`, {
          headers: { allow: match.allowed.join(", ") },
        });
      }
      routeName = match.route.name ?? match.route.path;
      if (options.publicUrl !== undefined) baseUrl = options.publicUrl.replace(/\/$/, "");
      else {
        const base = behindProxy ? forwardedBase(request.headers, href) : originOf(href);
        if (hosts.accepts(base)) baseUrl = base;
      }
      // State changes and WebSocket handshakes (a browser sends cached Basic credentials on both);
      // not /auth/: OAuth pages carry their own protections (state, PKCE, form tokens), and an RP may
      // post a logout there cross-site by design (OIDC RP-Initiated Logout §2).
      if (
        (!SAFE_METHODS.has(request.method) || request.headers.has("upgrade")) &&
        !path.startsWith("/auth/") &&
        crossSiteWithAmbientCredentials(request, baseUrl ?? originOf(href), cors)
      ) {
        throw new HttpError(
          403,
          `Cross-site ${request.method} with browser credentials refused: the request came from another site`,
        );
      }
      ctx = new Context(request, requestId, { clientAddress, local, baseUrl }, options, { tagged, varied });
      response = await match.route.handler(ctx, match.params);
    } catch (error) {
      response = errorResponse(error, { requestId, log: options.log, baseUrl });
    }
    // A refusal left its body unread: read a small one, or the connection would end with it.
    if (response.status >= 400 && request.method !== "GET" && request.method !== "HEAD") {
      await drainRefused(request);
    }
    if (options.compression) {
      const coding = codingFor(request, response, { path, ownOrigin: baseUrl ?? originOf(href), cors });
      // A ctx.json() response already says Vary: with no coding to apply, its headers are left
      // untouched (reading them moves a built Response off Deno.serve's native-header path).
      const varyPresent = varied.has(response);
      if (coding || !varyPresent) {
        response = await compressResponse(request, response, { ...options.compression, coding, varyPresent });
      }
    }
    // Changing a built Response's headers costs about a microsecond; ctx.json() builds them in.
    if (!tagged.has(response)) response.headers.set("x-request-id", requestId);
    // An upgraded request (a WebSocket, 101) can no longer be read: CORS does not apply to it anyway.
    if (cors?.enabled && response.status !== 101) cors.decorate(request, response);
    const seconds = (performance.now() - started) / 1000;
    options.metrics.observe(request.method, routeName, response.status, seconds);
    if (response.status >= 500 || (options.accessLog !== false && options.log.isEnabledFor("info"))) {
      const fields = logFields(request, response, {
        path,
        seconds,
        requestId,
        client: clientAddress,
        accountId: ctx?.accountId,
      });
      // One line per request at info level (the default; `--log-level warning` turns it off), and a
      // warning for every server fault.
      if (response.status >= 500) options.log.warn("HTTP {method} {path} {status}", fields);
      else options.log.info("HTTP {method} {path} {status}", fields);
    }
    return response;
  };
}

/**
 * The coding a response may be sent in: none for the OAuth pages, which carry form tokens beside
 * what the request sent, nor for a cross-site request made with a browser's ambient credentials:
 * compressed sizes an attacker can watch would leak those secrets byte by byte (BREACH).
 */
function codingFor(
  request: Request,
  response: Response,
  where: { path: string; ownOrigin: string; cors: Cors | undefined },
): ContentCoding | undefined {
  const coding = negotiate(request.headers.get("accept-encoding"));
  if (!coding) return undefined;
  if (where.path.startsWith("/auth/") && /^text\/html/i.test(response.headers.get("content-type") ?? "")) {
    return undefined;
  }
  return crossSiteWithAmbientCredentials(request, where.ownOrigin, where.cors) ? undefined : coding;
}

/** The context of one request (a class: its lazy `url` costs nothing until a route reads it). */
class Context implements RequestContext {
  private parsedUrl: URL | undefined;
  private knownPrincipal: Principal | Promise<Principal> | undefined;

  /** The account the request authenticated as, once known (for the access log). */
  accountId: number | undefined;
  readonly clientAddress: string;
  readonly local: boolean;
  private readonly knownBaseUrl: string | undefined;

  constructor(
    readonly request: Request,
    readonly requestId: string,
    origin: { clientAddress: string; local: boolean; baseUrl: string | undefined },
    private readonly options: HandlerOptions,
    private readonly marks: { tagged: WeakSet<Response>; varied: WeakSet<Response> },
  ) {
    this.clientAddress = origin.clientAddress;
    this.local = origin.local;
    this.knownBaseUrl = origin.baseUrl;
  }

  get url(): URL {
    return this.parsedUrl ??= new URL(this.request.url);
  }

  get baseUrl(): string {
    if (this.knownBaseUrl === undefined) {
      throw new HttpError(
        421,
        `This server does not answer for host "${hostOf(originOf(this.request.url))}" (set --public-url)`,
      );
    }
    return this.knownBaseUrl;
  }

  principal(): Principal | Promise<Principal> {
    if (this.knownPrincipal !== undefined) return this.knownPrincipal;
    const principal = this.options.authenticate(
      this.request.headers.get("authorization"),
      this.clientAddress,
    );
    if (principal instanceof Promise) {
      principal.then((p) => this.accountId = p.accountId, () => undefined);
    } else this.accountId = principal.accountId;
    return this.knownPrincipal = principal;
  }

  readJson(): Promise<unknown> {
    return readJson(this.request, this.options.maxBodyBytes);
  }

  json(body: unknown, init: { status?: number; headers?: Record<string, string> } = {}): Response {
    const extra = init.headers;
    // JSON is compressible: with compression on, the Vary that compressResponse would add is built in
    // (not when the caller's headers keep the response out of compression or set a Vary of their own).
    const vary = this.options.compression !== undefined &&
      (extra === undefined ||
        (extra["content-encoding"] === undefined && extra.vary === undefined &&
          !NO_TRANSFORM.test(extra["cache-control"] ?? "")));
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-request-id": this.requestId,
    };
    if (vary) headers.vary = "Accept-Encoding";
    const response = new Response(JSON.stringify(body), {
      status: init.status,
      headers: { ...headers, ...extra },
    });
    this.marks.tagged.add(response);
    if (vary) this.marks.varied.add(response);
    return response;
  }
}

/**
 * The fields of an access-log line. Never a secret: the path without its query (which may carry a
 * token or a code), no headers; the account as its number.
 */
function logFields(
  request: Request,
  response: Response,
  known: { path: string; seconds: number; requestId: string; client: string; accountId?: number },
) {
  return {
    method: request.method,
    path: known.path,
    status: response.status,
    ms: Math.round(known.seconds * 10_000) / 10,
    // The id as the APIs and the CLI show it (`postern get account <id>`).
    accountId: known.accountId === undefined ? null : encodeId(known.accountId),
    client: known.client,
    requestId: known.requestId,
  };
}

/** The nearest address in X-Forwarded-For that is not itself a trusted proxy. */
function forwardedFor(headers: Headers, trusted: Set<string>): string | undefined {
  const chain = headers.get("x-forwarded-for")?.split(",").map((s) => s.trim()).filter(Boolean) ?? [];
  for (let i = chain.length - 1; i >= 0; i--) if (!trusted.has(chain[i])) return chain[i];
  return chain[0];
}

/** Characters the URL parser rewrites in a path: controls, space, `"%<>\\\`{}`. */
const REWRITTEN = new Uint8Array(127);
for (let c = 0; c <= 32; c++) REWRITTEN[c] = 1;
for (const c of '"%<>\\`{}') REWRITTEN[c.charCodeAt(0)] = 1;

/**
 * The path of a request URL as `new URL(href).pathname` would give it, without building a URL object
 * (a measurable share of a cached request): plain paths are taken as they are; anything URL parsing
 * would rewrite (escapes, dot segments, backslashes, non-ASCII) goes through the parser.
 */
export function pathOf(href: string): string {
  const start = href.indexOf("/", href.indexOf("//") + 2);
  if (start < 0) return "/";
  let end = href.length;
  for (let i = start; i < href.length; i++) {
    const c = href.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
    if (REWRITTEN[c] || c > 126 || (c === 46 /* . */ && href.charCodeAt(i - 1) === 47 /* / */)) {
      return new URL(href).pathname;
    }
  }
  return href.slice(start, end);
}

const PLAIN_ORIGIN = /^https?:\/\/[a-z0-9.\-\[\]]+(:(?!80$|443$)\d+)?$/;

/** `new URL(href).origin`, taken as it is when the URL parser would not rewrite it. */
function originOf(href: string): string {
  const start = href.indexOf("/", href.indexOf("//") + 2);
  const origin = start < 0 ? href : href.slice(0, start);
  return PLAIN_ORIGIN.test(origin) ? origin : new URL(href).origin;
}

function forwardedBase(headers: Headers, href: string): string {
  const url = new URL(href);
  const proto = headers.get("x-forwarded-proto")?.split(",")[0].trim();
  const host = headers.get("x-forwarded-host")?.split(",")[0].trim();
  const scheme = proto === "https" || proto === "http" ? proto : url.protocol.slice(0, -1);
  const validHost = host && /^[A-Za-z0-9.\-\[\]:]+$/.test(host) ? host : url.host;
  return `${scheme}://${validHost}`;
}

/** A JSON response. */
export function jsonResponse(
  body: unknown,
  init: { status?: number; headers?: Record<string, string> } = {},
): Response {
  return new Response(JSON.stringify(body), {
    status: init.status,
    headers: { "content-type": "application/json", ...init.headers },
  });
}

export { problemResponse };
