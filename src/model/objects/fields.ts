/** Field schemas shared by several object types. */
import { z } from "zod";
import { decodeId } from "../ids.ts";

/** A wire id such as "b". */
export const idSchema = z.string().refine((v) => decodeId(v) !== undefined, "not a valid id");

/**
 * Characters display text may not hold: it reaches the consent and sign-in pages, the TUI and the
 * terminal, where they would end lines, ring bells, hide text or reverse its direction. Controls
 * (C0, DEL, C1), line and paragraph separators, and format characters (zero-width spaces, direction
 * overrides, isolates and marks, the byte-order mark, tags), except the zero-width joiner and
 * non-joiner that emoji sequences and some scripts (Persian, Indic) need. Lone surrogates are
 * refused apart (`isWellFormed`).
 */
const NOT_DISPLAY_TEXT = /[\p{Cc}\p{Zl}\p{Zp}\p{Cf}]/u;
const JOINERS = /[\u200c\u200d]/u;

/** Why `text` is not display text (its first forbidden character, by code point), or undefined. */
export function displayTextProblem(text: string): string | undefined {
  if (!text.isWellFormed()) return "must be well-formed Unicode (it holds a lone surrogate)";
  for (const char of text) {
    if (NOT_DISPLAY_TEXT.test(char) && !JOINERS.test(char)) {
      const code = char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
      return `must not contain control, invisible or text-direction characters (it holds U+${code})`;
    }
  }
  return undefined;
}

/** Display text (a name, a description): at most `max` characters, none that {@link displayTextProblem} refuses. */
export const displayTextSchema = (max: number, options: { min?: number } = {}) =>
  z.string()
    .min(options.min ?? 0, "must not be empty")
    .max(max, `at most ${max} characters`)
    .superRefine((text, ctx) => {
      const problem = displayTextProblem(text);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });

/** Free display text of bounded length; null clears it. */
export const textSchema = (max: number) => displayTextSchema(max).nullable();

const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Whether `text` is a host name (RFC 1123 labels) or an IPv4 or IPv6 literal (bare or in brackets). */
export function isHostNameOrAddress(text: string): boolean {
  const bare = /^\[.*\]$/.test(text) ? text.slice(1, -1) : text;
  if (bare.includes(":")) return URL.canParse(`http://[${bare}]/`);
  if (bare !== text) return false;
  // All digits and dots: an IPv4 address or nothing (never a name that reads as a number).
  if (/^[\d.]+$/.test(text)) return IPV4.test(text);
  return text.length <= 253 && text.split(".").every((label) => HOST_LABEL.test(label));
}

/** A domain name: letters, digits and hyphens in dot-separated labels (or "localhost"). */
export const domainNameSchema = z.string()
  .min(1, "must not be empty")
  .max(253, "at most 253 characters")
  .transform((v) => v.toLowerCase())
  .refine(
    (v) => /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(v),
    "must be a domain name such as example.org (letters, digits, hyphens and dots)",
  );

/** A local part as used in account names and addresses. */
export const localPartSchema = z.string()
  .min(1, "must not be empty")
  .max(64, "at most 64 characters")
  .transform((v) => v.toLowerCase())
  .refine(
    (v) => /^[a-z0-9](?:[a-z0-9._+-]*[a-z0-9_])?$/.test(v) && !v.includes(".."),
    "may contain only letters, digits and . _ + - (not at the start or end)",
  );

/** An email address `local@domain`. */
export const addressSchema = z.string().max(254, "at most 254 characters").transform((v, ctx) => {
  const at = v.lastIndexOf("@");
  const local = localPartSchema.safeParse(v.slice(0, Math.max(at, 0)));
  const domain = domainNameSchema.safeParse(v.slice(at + 1));
  if (at < 1 || !local.success || !domain.success) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not an email address such as name@example.org` });
    return z.NEVER;
  }
  return `${local.data}@${domain.data}`;
});

/** A timestamp in RFC 3339 UTC form, or null for none. */
export const utcDateSchema = z.string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/,
    "must be a UTC date such as 2027-01-31T00:00:00Z",
  )
  .refine((v) => !Number.isNaN(Date.parse(v)), "not a real date")
  .nullable();

/** A server-set value; the schema only exists so a declaration is uniform. */
export const serverSetSchema = z.never();

/**
 * A field of a server-made type (DkimKey, MailboxGrant, QueuedMessage): set by the server, read by
 * clients; `column` shows it in the CLI's and TUI's tables.
 */
export function serverSetField(type: string, description: string, column = false) {
  return { schema: serverSetSchema, type, description, serverSet: true, ...(column ? { column } : {}) };
}
