/**
 * CORS for browser clients (webmail on another origin): an allowlist of origins, preflights answered
 * before routing and without authentication, and the headers a script needs to read (request ids,
 * the authentication challenge, Retry-After).
 */

/** CORS settings, from the configuration. */
export interface CorsOptions {
  /** Exact origins such as https://webmail.example.org, or "*" for any origin. */
  origins: readonly string[];
  /** How long a browser may cache a preflight. */
  maxAgeSeconds: number;
}

const ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS = "authorization, content-type, accept, x-request-id, if-none-match";
const EXPOSE_HEADERS = "x-request-id, www-authenticate, retry-after, etag, location";

/** Decides CORS for requests. */
export class Cors {
  readonly #any: boolean;
  readonly #origins: Set<string>;

  constructor(private readonly options: CorsOptions) {
    this.#any = options.origins.includes("*");
    this.#origins = new Set(options.origins.map((o) => o.toLowerCase().replace(/\/$/, "")));
  }

  /** Whether CORS is configured at all. */
  get enabled(): boolean {
    return this.#any || this.#origins.size > 0;
  }

  /** The value of Access-Control-Allow-Origin for a request's Origin, or undefined when not allowed. */
  allowed(origin: string | null): string | undefined {
    if (!origin) return undefined;
    if (this.#origins.has(origin.toLowerCase())) return origin;
    return this.#any ? "*" : undefined;
  }

  /** A preflight (OPTIONS with Access-Control-Request-Method), answered without authentication. */
  isPreflight(request: Request): boolean {
    return request.method === "OPTIONS" && request.headers.has("access-control-request-method") &&
      request.headers.has("origin");
  }

  /** The answer to a preflight: 204 with the allowances, or 403 for an origin not on the list. */
  preflight(request: Request): Response {
    const origin = this.allowed(request.headers.get("origin"));
    if (!origin) {
      return new Response(null, { status: 403, headers: { vary: "Origin" } });
    }
    return new Response(null, {
      status: 204,
      headers: {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": ALLOW_METHODS,
        "access-control-allow-headers": ALLOW_HEADERS,
        "access-control-max-age": String(this.options.maxAgeSeconds),
        vary: "Origin",
      },
    });
  }

  /** Adds the CORS headers of an actual request's response (when its origin is allowed). */
  decorate(request: Request, response: Response): void {
    const origin = this.allowed(request.headers.get("origin"));
    if (!origin) return;
    response.headers.set("access-control-allow-origin", origin);
    response.headers.set("access-control-expose-headers", EXPOSE_HEADERS);
    response.headers.append("vary", "Origin");
  }
}
