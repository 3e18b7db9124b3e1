/**
 * The header fields of an Email/set create (RFC 8621 §4.1.2, §4.1.3) checked one by one: header:{name}
 * properties in any form, address lists and message ids, none with a control character (no injection).
 */
import { writeHeaderForm } from "../../mail/mod.ts";
import type { EmailService } from "../../mail/mod.ts";
import { invalidProperty } from "../../model/errors.ts";
import { MethodError } from "../errors.ts";
import { type HeaderProperty, parseHeaderProperty } from "./header_property.ts";

type HeaderField = Parameters<EmailService["create"]>[2]["message"]["headers"][number];

/** Control characters: none may be in a value that goes into a header field (no injection). */
// deno-lint-ignore no-control-regex
export const CONTROL = /[\x00-\x1f\x7f]/;

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A header:{name}[:as{Form}][:all] key; a malformed one is invalid as the property it is. */
export function readHeaderKey(key: string, report = key): HeaderProperty {
  try {
    return parseHeaderProperty(key)!;
  } catch (error) {
    if (error instanceof MethodError) throw invalidProperty(report, error.message);
    throw error;
  }
}

/** The header fields a header property writes: one, none for null, one per item for :all. */
export function headerFields(
  key: string,
  header: HeaderProperty,
  value: unknown,
  report = key,
): HeaderField[] {
  const name = key.slice("header:".length).split(":")[0];
  if (header.all && value !== null && !Array.isArray(value)) {
    throw invalidProperty(report, `"${key}" with :all is a list of values, one per header field`);
  }
  const values = header.all ? (value as unknown[] | null) ?? [] : [value];
  const fields: HeaderField[] = [];
  for (const item of values) {
    const written = writeHeaderForm(header.form, item);
    if (written === null) continue;
    if ("error" in written) {
      throw invalidProperty(report, report === key ? written.error : `"${key}" ${written.error}`);
    }
    fields.push({ name, value: written.value, fold: header.form !== "Raw" });
  }
  return fields;
}

/** An address list property (from, to, …): a list of {name, email}, or null. */
export function addresses(property: string, value: unknown) {
  if (value === null) return null;
  if (
    !Array.isArray(value) ||
    !value.every((a) =>
      isObject(a) && typeof a.email === "string" && /^[^\s<>,"]+$/.test(a.email) && !CONTROL.test(a.email) &&
      (a.name === undefined || a.name === null || (typeof a.name === "string" && !CONTROL.test(a.name)))
    )
  ) throw invalidProperty(property, "must be a list of {name, email} or null");
  return value.map((a) => ({
    name: (a.name as string | null | undefined) ?? null,
    email: a.email as string,
  }));
}

/** A message id list property (messageId, inReplyTo, references), or null. */
export function messageIds(property: string, value: unknown) {
  if (value === null) return null;
  if (
    !Array.isArray(value) ||
    !value.every((v) => typeof v === "string" && /^[^<>\s]+$/.test(v) && !CONTROL.test(v))
  ) {
    throw invalidProperty(property, "must be a list of message ids without angle brackets, or null");
  }
  return value as string[];
}
