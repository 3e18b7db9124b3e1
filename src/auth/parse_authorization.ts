import { AuthError } from "../model/errors.ts";

/** A syntactically valid Authorization header. */
export type ParsedAuthorization =
  | { scheme: "Basic"; login: string; password: string }
  | { scheme: "Bearer"; token: string };

const MAX_HEADER = 8192;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses `Basic` (RFC 7617) and `Bearer` (RFC 6750) headers. A header that cannot be read throws an
 * AuthError of reason `malformed` naming the problem; an unknown scheme counts as no credentials.
 */
export function parseAuthorization(header: string): ParsedAuthorization {
  if (header.length > MAX_HEADER) {
    throw new AuthError(
      `Authorization header is longer than ${MAX_HEADER} characters`,
      "malformed",
      undefined,
    );
  }
  const space = header.indexOf(" ");
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const value = space < 0 ? "" : header.slice(space + 1).trim();
  if (scheme === "basic") {
    if (!value) throw new AuthError("Basic credentials are empty", "malformed", "Basic");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 === 1) {
      throw new AuthError("Basic credentials are not valid base64", "malformed", "Basic");
    }
    let decoded: string;
    try {
      decoded = utf8.decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)));
    } catch {
      throw new AuthError("Basic credentials are not valid base64-encoded UTF-8", "malformed", "Basic");
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new AuthError('Basic credentials must be "user:password"', "malformed", "Basic");
    const login = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (!login) throw new AuthError("Basic credentials have an empty user name", "malformed", "Basic");
    // Control characters in a user name can only be an attack on logs; refuse them by name.
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x1f\x7f]/.test(login)) {
      throw new AuthError("Basic user name contains control characters", "malformed", "Basic");
    }
    return { scheme: "Basic", login, password };
  }
  if (scheme === "bearer") {
    // RFC 6750 §2.1 b64token syntax.
    if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(value)) {
      throw new AuthError(
        "Bearer token is empty or has characters a token cannot have",
        "malformed",
        "Bearer",
      );
    }
    return { scheme: "Bearer", token: value };
  }
  throw new AuthError(
    `Unsupported authorization scheme "${header.slice(0, Math.min(space < 0 ? 20 : space, 20))}"`,
    "missing",
    undefined,
  );
}
