/**
 * Request parameters of the OAuth endpoints (RFC 6749 §3.1, §3.2): from the query or an
 * application/x-www-form-urlencoded body. A parameter sent twice is an error, not a choice
 * (§3.1: "Request and response parameters MUST NOT be included more than once"); an empty value is
 * the same as an absent one.
 */
import { HttpError, readBody } from "../../http/mod.ts";
import { BASIC_CHALLENGE } from "../deps.ts";
import { invalidRequest, OAuthError } from "../errors.ts";

/** Longest accepted form body; OAuth requests are small. */
const MAX_FORM_BYTES = 64 * 1024;
/** Longest accepted single value (long `state` and `nonce` included). */
export const MAX_VALUE = 4096;
// One decoder for every request: fatal decoding keeps no state between calls.
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Parsed parameters with duplicate and size checks. */
export class Params {
  constructor(private readonly values: Map<string, string[]>) {}

  /** Parameters of a query string or form body (its name and value pairs, decoded). */
  static from(search: Iterable<[string, string]>): Params {
    const values = new Map<string, string[]>();
    for (const [key, value] of search) {
      if (value === "") continue;
      const list = values.get(key);
      if (list) list.push(value);
      else values.set(key, [value]);
    }
    return new Params(values);
  }

  /** The one value of `name`, or undefined; throws invalid_request when repeated or oversized. */
  get(name: string, max = MAX_VALUE): string | undefined {
    const list = this.values.get(name);
    if (!list) return undefined;
    if (list.length > 1) throw invalidRequest(`The parameter "${name}" was sent more than once`);
    if (list[0].length > max) {
      throw invalidRequest(`The parameter "${name}" is longer than ${max} characters`);
    }
    return list[0];
  }

  /** The value of `name`, or invalid_request naming it. */
  require(name: string, max = MAX_VALUE): string {
    const value = this.get(name, max);
    if (value === undefined) throw invalidRequest(`The parameter "${name}" is required`);
    return value;
  }

  /** Whether `name` was sent at all. */
  has(name: string): boolean {
    return this.values.has(name);
  }

  /** Checks every listed parameter for repetition (those read later would fail anyway). */
  checkSingle(names: readonly string[]): void {
    for (const name of names) this.get(name, Number.MAX_SAFE_INTEGER);
  }
}

/** The form body of a POST (x-www-form-urlencoded only, as RFC 6749 requires). */
export async function readForm(request: Request): Promise<Params> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
    throw invalidRequest(
      `The request body must be application/x-www-form-urlencoded${type ? `, not "${type}"` : ""}`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBody(request, MAX_FORM_BYTES);
  } catch (error) {
    // RFC 6749 §5.2: a request the server will not read is malformed: 400 invalid_request.
    if (error instanceof HttpError && error.status === 413) {
      throw invalidRequest(`The request body exceeds ${MAX_FORM_BYTES} bytes`);
    }
    throw error;
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalidRequest("The request body is not valid UTF-8");
  }
  return Params.from(formPairs(text));
}

/**
 * The name and value pairs of a form body as URLSearchParams reads them. Split here, each part decoded
 * with decodeURIComponent when it has a `%` or `+` (a scope or redirect URI): the same pairs for a
 * fraction of the cost. A body that decodeURIComponent refuses (a `%` not followed by two hex digits,
 * bytes that are not UTF-8), or with a leading `?`, goes through URLSearchParams, which reads those
 * its own way.
 */
function formPairs(text: string): Iterable<[string, string]> {
  if (text.charCodeAt(0) === 63 /* ? */) return new URLSearchParams(text);
  const pairs: [string, string][] = [];
  try {
    for (const pair of text.split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      pairs.push(
        eq < 0 ? [decodePart(pair), ""] : [decodePart(pair.slice(0, eq)), decodePart(pair.slice(eq + 1))],
      );
    }
  } catch {
    return new URLSearchParams(text);
  }
  return pairs;
}

/** A form name or value decoded (`+` is a space); throws URIError where URLSearchParams is lenient. */
function decodePart(part: string): string {
  if (!part.includes("%") && !part.includes("+")) return part;
  return decodeURIComponent(part.includes("+") ? part.replaceAll("+", " ") : part);
}

/** Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: form-encoded id and secret). */
export function basicClient(request: Request): { clientId: string; secret: string } | undefined {
  const header = request.headers.get("authorization");
  if (!header) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) {
    throw new OAuthError(
      "invalid_client",
      "The Authorization header is not valid Basic client authentication",
      401,
      { "www-authenticate": BASIC_CHALLENGE },
    );
  }
  let decoded: string;
  try {
    decoded = utf8.decode(Uint8Array.fromBase64(match[1]));
  } catch {
    throw new OAuthError("invalid_client", "The Basic credentials are not valid base64 UTF-8", 401, {
      "www-authenticate": BASIC_CHALLENGE,
    });
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) {
    throw new OAuthError("invalid_client", "The Basic credentials must be client_id:client_secret", 401, {
      "www-authenticate": BASIC_CHALLENGE,
    });
  }
  const unescape = (s: string) => {
    if (!s.includes("%") && !s.includes("+")) return s;
    try {
      return decodeURIComponent(s.replace(/\+/g, " "));
    } catch {
      return s;
    }
  };
  return { clientId: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
}

/** A space-separated scope parameter as a list without repeats. */
export function scopeList(scope: string | undefined): string[] {
  return [...new Set((scope ?? "").split(" ").filter(Boolean))];
}
