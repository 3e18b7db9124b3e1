/** A structured header value with parameters (Content-Type, Content-Disposition), decoded. */
import libmime from "libmime";

/**
 * `text/plain; charset="utf-8"` → value "text/plain", params { charset: "utf-8" }: the value in lower
 * case, parameter names in lower case, RFC 2231 continuations and charsets decoded, and RFC 2047
 * words in values (which clients send although RFC 2047 §5 forbids them there) decoded too.
 */
export function parseParameters(header: string): { value: string; params: Record<string, string> } {
  let parsed: { value: string; params: Record<string, string> };
  try {
    parsed = libmime.parseHeaderValue(header.replace(/\r?\n[ \t]/g, " "));
  } catch {
    return { value: header.trim().toLowerCase(), params: {} };
  }
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed.params ?? {})) {
    params[name.toLowerCase()] = decodeWords(String(value));
  }
  return { value: String(parsed.value ?? "").trim().toLowerCase(), params };
}

/** RFC 2047 encoded words decoded; text that is not valid encoded words is left as it is. */
export function decodeWords(text: string): string {
  if (!text.includes("=?")) return text;
  try {
    return libmime.decodeWords(text);
  } catch {
    return text;
  }
}
