/**
 * Header field values written by a client in the forms of RFC 8621 §4.1.2, the inverse of
 * mime/header_forms.ts: Raw as given, Text with RFC 2047 encoded words when not ASCII, Addresses and
 * GroupedAddresses as RFC 5322 address lists, MessageIds as `<id>` lists, Date as an RFC 5322 date,
 * URLs as `<url>` lists. A value that could end the field early (a CR or LF that is not folding, a
 * NUL or another control character) is refused: no client can inject a header field or a body.
 */
import { encodeWords } from "nodemailer/lib/mime-funcs/index.js";
import type { HeaderForm } from "./mime/mod.ts";
import { rfc5322Date } from "./compose.ts";

/** A written value as it goes on the wire after `Name:`, or why it cannot be written. */
export type WrittenHeader = { value: string } | { error: string };

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** A token of an address, id or URL: visible ASCII or any non-ASCII, none of the delimiters. */
// deno-lint-ignore no-control-regex
const WORD = /^[^\x00-\x20\x7f<>"]+$/;
/** Characters an unquoted phrase (a display name) may hold (RFC 5322 atext and spaces). */
const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/i;

/** The value of `form` as a header field value; null (or undefined) writes no field. */
export function writeHeaderForm(form: HeaderForm, value: unknown): WrittenHeader | null {
  if (value === null || value === undefined) return null;
  switch (form) {
    case "Raw":
      return writeRaw(value);
    case "Text":
      if (typeof value !== "string" || CONTROL.test(value)) {
        return { error: "must be a string without line breaks or control characters" };
      }
      // deno-lint-ignore no-control-regex
      return { value: " " + (/[^\x00-\x7f]/.test(value) ? encodeWords(value, "Q", 52) : value) };
    case "Addresses": {
      const list = addressList(value);
      return typeof list === "string" ? { value: ` ${list}` } : list;
    }
    case "GroupedAddresses": {
      if (!Array.isArray(value)) return { error: "must be a list of {name, addresses}" };
      const groups: string[] = [];
      for (const group of value) {
        if (typeof group !== "object" || group === null || Array.isArray(group)) {
          return { error: "must be a list of {name, addresses}" };
        }
        const { name, addresses } = group as Record<string, unknown>;
        const list = addressList(addresses);
        if (typeof list !== "string") return list;
        if (name === null || name === undefined) {
          if (list) groups.push(list);
          continue;
        }
        const phraseText = phrase(name);
        if (phraseText === undefined) return { error: "a group name must be a string without line breaks" };
        groups.push(`${phraseText}: ${list};`);
      }
      return { value: ` ${groups.join(", ")}` };
    }
    case "MessageIds":
    case "URLs": {
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && WORD.test(v))) {
        return {
          error: form === "URLs"
            ? "must be a list of URLs without spaces or angle brackets"
            : "must be a list of message ids without spaces or angle brackets",
        };
      }
      if (value.length === 0) return null;
      return { value: " " + value.map((v) => `<${v}>`).join(form === "URLs" ? ", " : " ") };
    }
    case "Date":
      if (typeof value !== "string" || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
        return { error: "must be a Date such as 2026-12-06T10:00:00+01:00" };
      }
      return { value: " " + rfc5322Date(value) };
  }
}

/**
 * A Raw value is written as given, unfolded: it may fold (CRLF followed by a space or tab, with something on
 * the folded line) but no other CR or LF, NUL or control character may appear in it.
 */
function writeRaw(value: unknown): WrittenHeader {
  if (typeof value !== "string") return { error: "must be a string" };
  const unfolded = value.replace(/\r\n(?=[ \t]*[^ \t\r\n])[ \t]/g, " ");
  if (CONTROL.test(unfolded.replace(/\t/g, " "))) {
    return {
      error: "must not contain a CR or LF other than folding (CRLF then a space), nor control characters",
    };
  }
  // Written unfolded (RFC 5322 §2.2.3: the same value); the composer folds no Raw value.
  const raw = value.replace(/\r\n(?=[ \t])/g, "");
  return { value: /^[ \t]/.test(raw) ? raw : ` ${raw}` };
}

/** A display name as an RFC 5322 phrase: as is, quoted, or encoded words when not ASCII. */
function phrase(name: unknown): string | undefined {
  if (typeof name !== "string" || CONTROL.test(name)) return undefined;
  // deno-lint-ignore no-control-regex
  if (/[^\x00-\x7f]/.test(name)) return encodeWords(name, "Q", 52, true);
  if (ATEXT.test(name)) return name;
  return `"${name.replace(/(["\\])/g, "\\$1")}"`;
}

/** EmailAddress[] as a comma-separated address list (empty for none), or why it cannot be. */
function addressList(value: unknown): string | { error: string } {
  const problem = { error: "must be a list of {name, email}, the email without spaces or angle brackets" };
  if (!Array.isArray(value)) return problem;
  const out: string[] = [];
  for (const address of value) {
    if (typeof address !== "object" || address === null || Array.isArray(address)) return problem;
    const { name, email } = address as Record<string, unknown>;
    if (typeof email !== "string" || !WORD.test(email) || email.includes(",")) return problem;
    if (name === null || name === undefined || name === "") {
      out.push(email);
      continue;
    }
    const display = phrase(name);
    if (display === undefined) return { error: "a name must be a string without line breaks" };
    out.push(`${display} <${email}>`);
  }
  return out.join(", ");
}
