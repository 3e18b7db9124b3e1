/**
 * Where a request comes from and which host it names: the cross-site check for requests carrying browser
 * credentials, the host names absolute URLs may be built from, and the warning about untrusted proxies.
 */
import type { Logger } from "@logtape/logtape";
import type { Cors } from "./cors.ts";

/** Whether a proxy added forwarding headers (X-Forwarded-For, Forwarded, X-Real-IP). */
export function forwarded(headers: Headers): boolean {
  return headers.has("x-forwarded-for") || headers.has("forwarded") || headers.has("x-real-ip");
}

/** A loopback address (IPv4, IPv6 or IPv4-mapped). */
export function isLoopbackAddress(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

/** Methods that change nothing (a cross-site request of these is harmless). */
export const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Whether a state-changing request carries credentials a browser adds by itself (cached Basic
 * credentials, cookies) and comes from another site: Sec-Fetch-Site says so, or else an Origin that is
 * neither this server's nor one CORS allows. Requests without either header are not from a browser.
 */
export function crossSiteWithAmbientCredentials(
  request: Request,
  ownOrigin: string,
  cors: Cors | undefined,
): boolean {
  const headers = request.headers;
  const authorization = headers.get("authorization");
  const ambient = (authorization !== null && /^basic\s/i.test(authorization)) || headers.has("cookie");
  if (!ambient) return false;
  const site = headers.get("sec-fetch-site");
  if (site === "same-origin" || site === "none") return false;
  const origin = headers.get("origin");
  if (origin !== null && origin !== "null" && cors?.allowed(origin) !== undefined) return false;
  if (site === "cross-site" || site === "same-site") return true;
  return origin !== null && origin.toLowerCase() !== ownOrigin.toLowerCase();
}

/** The host name of an origin (`http://[::1]:8080` → `[::1]`), lower-cased. */
export function hostOf(origin: string): string {
  const start = origin.indexOf("//") + 2;
  const port = origin.lastIndexOf(":");
  const end = port > start && !origin.slice(port).includes("]") ? port : origin.length;
  return origin.slice(start, end).toLowerCase();
}

/** Loopback names and addresses: a client on this machine. */
const LOOPBACK_HOST = /^(localhost|[a-z0-9-]+\.localhost|127(\.\d{1,3}){3}|\[::1\])\.?$/;

/** Which hosts the absolute URLs of a request may be built from (without a publicUrl). */
export class HostCheck {
  readonly #names: Set<string>;
  // The verdict per origin: a handful in practice; bounded so forged hosts cannot grow it.
  readonly #known = new Map<string, boolean>();

  constructor(names: string[]) {
    this.#names = new Set(
      names.map((n) => n.toLowerCase().replace(/\.$/, "")).map((n) =>
        n.includes(":") && !n.startsWith("[") ? `[${n}]` : n
      ),
    );
  }

  accepts(origin: string): boolean {
    let verdict = this.#known.get(origin);
    if (verdict === undefined) {
      const host = hostOf(origin);
      verdict = LOOPBACK_HOST.test(host) || this.#names.has(host.replace(/\.$/, ""));
      if (this.#known.size >= 256) this.#known.clear();
      this.#known.set(origin, verdict);
    }
    return verdict;
  }
}

/**
 * Warns once when requests arrive through a proxy that is not trusted (X-Forwarded-For, Forwarded or
 * X-Real-IP from an address not in --trusted-proxy): every client then shares the proxy's address, so
 * the login throttle treats them as one. (/metrics stays closed: a forwarded request is never local.)
 */
export class ProxyWarning {
  given = false;

  constructor(private readonly log: Logger, private readonly trusted: Set<string>) {}

  check(headers: Headers, remote: string): void {
    if (!forwarded(headers)) return;
    this.given = true;
    const metrics = isLoopbackAddress(remote) ? "; /metrics is refused to what it forwards" : "";
    // Written out, not as {placeholders}: the structured log would quote them inside the advice.
    this.log.warn(
      `Requests arrive through a proxy at ${remote} that is not trusted: every client behind it shares one ` +
        `login-throttle key${metrics}. Start with --trusted-proxy ${remote} (and --public-url)`,
      { remote, trusted: [...this.trusted] },
    );
  }
}
