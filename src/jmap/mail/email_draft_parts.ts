/**
 * EmailBodyParts written by a client (RFC 8621 §4.1.4, §4.6): bodyStructure, textBody, htmlBody and
 * attachments read into the body structure of a draft, nested at most MAX_STRUCTURE_DEPTH deep.
 */
import type { EmailService } from "../../mail/mod.ts";
import { DEFAULT_BODY_PROPERTIES } from "../../mail/mime/mod.ts";
import { invalidProperty } from "../../model/errors.ts";
import type { MethodContext } from "../engine.ts";
import { resolveCreationIds } from "../standard/creation_ids.ts";
import { CONTROL, headerFields, isObject, readHeaderKey } from "./email_draft_fields.ts";

type StructureDraft = NonNullable<Parameters<EmailService["create"]>[2]["structure"]>;
type HeaderField = Parameters<EmailService["create"]>[2]["message"]["headers"][number];

/** Parts nest at most this deep in a body structure written by a client. */
const MAX_STRUCTURE_DEPTH = 10;

/** The properties an EmailBodyPart may be given (RFC 8621 §4.1.4), besides header:{name}. */
const PART_PROPERTIES: readonly string[] = [...DEFAULT_BODY_PROPERTIES, "subParts"];
/** A part's header field that one of its properties also writes. */
const PART_FIELD_OF: Record<string, string> = {
  "content-disposition": "disposition",
  "content-id": "cid",
  "content-language": "language",
  "content-location": "location",
};

export interface PartContext {
  /** The Email property the part is in, which an invalid part is reported as. */
  property: string;
  bodyValues: Record<string, unknown>;
  ctx: MethodContext;
  depth: number;
  /** The type of a part that gives none. */
  defaultType?: string;
}

/**
 * One EmailBodyPart written by a client (of bodyStructure, textBody, htmlBody or attachments): a
 * multipart with subParts, or a leaf with its text from bodyValues (partId) or its content from a
 * blob (blobId); its name, disposition, cid, language, location and header:{name} fields kept.
 */
export function readPart(value: unknown, context: PartContext): StructureDraft {
  const property = context.property;
  if (!isObject(value)) throw invalidProperty(property, "every part must be an EmailBodyPart object");
  if (context.depth > MAX_STRUCTURE_DEPTH) {
    throw invalidProperty(property, `parts nest at most ${MAX_STRUCTURE_DEPTH} deep`);
  }
  if (value.headers !== undefined) {
    // RFC 8621 §4.6: "The 'headers' property MUST NOT be given on either the top-level Email or an
    // EmailBodyPart".
    throw invalidProperty(
      property,
      '"headers" must not be given: set each field as a header:{name} property',
    );
  }
  const text = (name: string) => {
    const v = value[name];
    if (v !== undefined && v !== null && (typeof v !== "string" || CONTROL.test(v))) {
      throw invalidProperty(property, `"${name}" must be a string without line breaks`);
    }
    return (v as string | undefined) ?? null;
  };
  const type = (text("type") ??
    (Array.isArray(value.subParts) ? "multipart/mixed" : context.defaultType ?? "text/plain"))
    .toLowerCase();
  if (!/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/.test(type)) {
    throw invalidProperty(property, `"${type}" is not a media type`);
  }
  const language = value.language;
  if (
    language !== undefined && language !== null &&
    !(Array.isArray(language) && language.every((l) => typeof l === "string" && /^[\w-]+$/.test(l)))
  ) {
    throw invalidProperty(property, '"language" must be a list of language tags');
  }
  const headers: HeaderField[] = [];
  const seen = new Set<string>();
  for (const [key, given] of Object.entries(value)) {
    if (!key.startsWith("header:")) {
      if (!PART_PROPERTIES.includes(key)) {
        throw invalidProperty(property, `"${key}" is not an EmailBodyPart property`);
      }
      continue;
    }
    const header = readHeaderKey(key, property);
    if (header.name === "content-transfer-encoding") {
      // RFC 8621 §4.6: "A 'Content-Transfer-Encoding' header field MUST NOT be given."
      throw invalidProperty(property, `"${key}": the server chooses the Content-Transfer-Encoding`);
    }
    if (header.name === "content-type") {
      // The part's type writes its Content-Type, and the server picks the charset of text from
      // bodyValues (§4.6): a Content-Type of the client's would contradict them.
      throw invalidProperty(property, `"${key}": give the part's "type" instead`);
    }
    const twin = PART_FIELD_OF[header.name];
    if (
      seen.has(header.name) || (twin && value[twin] !== undefined && value[twin] !== null) ||
      (header.name === "content-disposition" && value.name !== undefined && value.name !== null)
    ) {
      // RFC 8621 §4.6: "There MUST NOT be two properties that represent the same header field ...
      // within the Email or particular EmailBodyPart."
      throw invalidProperty(property, `"${key}" writes a header field another property of the part writes`);
    }
    seen.add(header.name);
    headers.push(...headerFields(key, header, given, property));
  }
  const common = {
    type,
    name: text("name"),
    disposition: text("disposition"),
    cid: text("cid"),
    location: text("location"),
    language: (language as string[] | null | undefined) ?? null,
    headers,
  };
  if (common.cid !== null && !/^[^<>\s]+$/.test(common.cid)) {
    throw invalidProperty(property, '"cid" must be a Content-ID without angle brackets');
  }
  if (type.startsWith("multipart/")) {
    if (!Array.isArray(value.subParts) || value.subParts.length === 0) {
      throw invalidProperty(property, `a ${type} part needs its subParts`);
    }
    if (value.partId !== undefined || value.blobId !== undefined) {
      throw invalidProperty(property, "a multipart has subParts, not a partId or blobId");
    }
    return {
      ...common,
      subParts: value.subParts.map((child) =>
        readPart(child, { ...context, depth: context.depth + 1, defaultType: undefined })
      ),
    };
  }
  if (value.subParts !== undefined && value.subParts !== null) {
    throw invalidProperty(property, `a ${type} part has no subParts`);
  }
  if (value.partId !== undefined) {
    if (typeof value.partId !== "string") throw invalidProperty(property, '"partId" must be a string');
    if (value.blobId !== undefined) {
      // RFC 8621 §4.6: "The 'partId' property MUST NOT be given if the 'blobId' property is given."
      throw invalidProperty(property, "a part has a partId or a blobId, not both");
    }
    if (value.charset !== undefined || value.size !== undefined) {
      // RFC 8621 §4.6: "The 'charset' property MUST be omitted if a 'partId' is given" and "The 'size'
      // property MUST be omitted if a 'partId' is given."
      throw invalidProperty(
        property,
        'a part with a partId has no "charset" or "size": the server sets them',
      );
    }
    if (!type.startsWith("text/")) {
      throw invalidProperty(property, "only text/* parts take their content from bodyValues");
    }
    const body = context.bodyValues[value.partId];
    if (!isObject(body) || typeof body.value !== "string") {
      throw invalidProperty(
        property,
        `partId "${value.partId}" must name a bodyValues entry with a string value`,
      );
    }
    return { ...common, text: body.value };
  }
  const blobId = resolveCreationIds(value.blobId, context.ctx);
  if (typeof blobId !== "string") {
    throw invalidProperty(property, "a leaf part needs a partId (bodyValues) or a blobId");
  }
  const charset = text("charset");
  if (charset !== null && !/^[\w!#$%&'+^`{}~.-]+$/.test(charset)) {
    throw invalidProperty(property, `"${charset}" is not a charset`);
  }
  // A blob's size is what it holds: a size given with it is ignored (§4.6).
  return { ...common, type: charset ? `${type}; charset=${charset}` : type, blobId };
}

/** The partIds a written bodyStructure uses. */
export function collectPartIds(value: unknown, into: Set<unknown>): void {
  if (!isObject(value)) return;
  if (typeof value.partId === "string") into.add(value.partId);
  if (Array.isArray(value.subParts)) { for (const child of value.subParts) collectPartIds(child, into); }
}
