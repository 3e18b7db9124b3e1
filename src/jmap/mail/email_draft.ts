/**
 * The properties of Email/set create (RFC 8621 §4.6), checked: what the message is made of. A
 * property the server sets, or one of the wrong type, is refused naming it; every invalid property
 * of one create is named, not only the first. Header fields are written in any of the forms of
 * §4.1.2 (header_write.ts), at the top level and on body parts.
 */
import type { EmailService } from "../../mail/mod.ts";
import { isKeyword, writeHeaderForm } from "../../mail/mod.ts";
import { DEFAULT_BODY_PROPERTIES } from "../../mail/mime/mod.ts";
import { InvalidInputError, invalidProperty, type PropertyProblem } from "../../model/errors.ts";
import { decodeId } from "../../model/ids.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import { resolveCreationIds } from "../standard/creation_ids.ts";
import type { JmapObject } from "../standard/data_type.ts";
import { type HeaderProperty, parseHeaderProperty } from "./header_property.ts";
import { readDate, readUtcDate } from "../dates.ts";

/** What EmailService.create takes. */
export type Draft = Parameters<EmailService["create"]>[2];
type StructureDraft = NonNullable<Draft["structure"]>;
type HeaderField = Draft["message"]["headers"][number];

const SERVER_SET = ["id", "blobId", "threadId", "size", "hasAttachment", "preview"];
const ADDRESS_PROPERTIES = ["from", "sender", "to", "cc", "bcc", "replyTo"] as const;
const ID_PROPERTIES = ["messageId", "inReplyTo", "references"] as const;
/** Control characters: none may be in a value that goes into a header field (no injection). */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/** The convenience properties and the header field each writes (§4.1.2, §4.1.3). */
const FIELD_OF: Record<string, string> = {
  from: "from",
  sender: "sender",
  to: "to",
  cc: "cc",
  bcc: "bcc",
  replyTo: "reply-to",
  subject: "subject",
  sentAt: "date",
  messageId: "message-id",
  inReplyTo: "in-reply-to",
  references: "references",
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

interface Parts {
  text?: StructureDraft;
  html?: StructureDraft;
  attachments: StructureDraft[];
}

/** Reads the create object into a draft; every invalid property is named, not only the first. */
export function readDraft(object: JmapObject, ctx: MethodContext): Draft {
  const draft: Draft = { message: { headers: [] }, attachments: [], mailboxIds: [], keywords: [] };
  const problems: PropertyProblem[] = [];
  const messages: string[] = [];
  const guard = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      problems.push(...error.problems);
      messages.push(error.message);
    }
  };
  // Kept even when refused, so the parts naming them are not refused on top.
  const bodyValues = isObject(object.bodyValues) ? object.bodyValues : {};
  guard(() => checkBodyValues(object.bodyValues));
  /** Which properties write each header field (lower case): two for one field is refused (§4.6). */
  const writers = new Map<string, string[]>();
  const writes = (field: string, property: string) =>
    writers.set(field, [...writers.get(field) ?? [], property]);
  const parts: Parts = { attachments: [] };
  for (const [key, value] of Object.entries(object)) {
    guard(() => readProperty(key, value, { object, draft, parts, bodyValues, ctx, writes }));
  }
  if (object.mailboxIds === undefined) {
    guard(() => {
      throw invalidProperty("mailboxIds", "an email must be in at least one mailbox");
    });
  }
  for (const [field, properties] of writers) {
    const distinct = [...new Set(properties)];
    if (distinct.length < 2) continue;
    guard(() => {
      // RFC 8621 §4.6: "There MUST NOT be two properties that represent the same header field (e.g.,
      // 'header:from' and 'from') within the Email or particular EmailBodyPart."
      throw new InvalidInputError(
        `${distinct.map((p) => `"${p}"`).join(" and ")} both write the ${field} header field`,
        distinct.map((property) => ({ property, message: `writes the ${field} header field twice` })),
      );
    });
  }
  const used = new Set(
    [object.textBody, object.htmlBody].flatMap((b) => Array.isArray(b) ? b.map((p) => p?.partId) : []),
  );
  collectPartIds(object.bodyStructure, used);
  for (const partId of Object.keys(bodyValues)) {
    if (!used.has(partId)) {
      guard(() => {
        throw invalidProperty("bodyValues", `"${partId}" is not the partId of textBody or htmlBody`);
      });
    }
  }
  if (problems.length) throw new InvalidInputError(messages.join("; "), problems);
  placeParts(draft, parts, object);
  return draft;
}

/** One property of the create object into the draft; throws invalidProperty naming it. */
function readProperty(
  key: string,
  value: unknown,
  call: {
    object: JmapObject;
    draft: Draft;
    parts: Parts;
    bodyValues: Record<string, unknown>;
    ctx: MethodContext;
    writes: (field: string, property: string) => void;
  },
): void {
  const { draft, parts, bodyValues, ctx } = call;
  const message = draft.message;
  if (SERVER_SET.includes(key)) throw invalidProperty(key, "is set by the server");
  if (key.startsWith("header:")) {
    const header = readHeaderKey(key);
    if (header.name.startsWith("content-")) {
      // RFC 8621 §4.6: "Header fields beginning with 'Content-' MUST NOT be specified on the Email
      // object, only on EmailBodyPart objects."
      throw invalidProperty(key, "Content-* header fields are given on body parts, not on the Email");
    }
    if (header.name === "mime-version") throw invalidProperty(key, "is written by the server");
    call.writes(header.name, key);
    message.headers.push(...headerFields(key, header, value));
    return;
  }
  if (FIELD_OF[key]) call.writes(FIELD_OF[key], key);
  switch (key) {
    case "headers":
      // RFC 8621 §4.6: "The 'headers' property MUST NOT be given on either the top-level Email or an
      // EmailBodyPart -- the client must set each header field as an individual property."
      throw invalidProperty(key, "must not be given: set each header field as a header:{name} property");
    case "mailboxIds":
      if (!isObject(value)) throw invalidProperty(key, "must be an object of mailbox ids set to true");
      for (const [id, flag] of Object.entries(value)) {
        const mailbox = decodeId(String(resolveCreationIds(id, ctx)));
        if (flag !== true || mailbox === undefined) {
          throw invalidProperty(key, `"${id}" must be a mailbox id set to true`);
        }
        draft.mailboxIds.push(mailbox);
      }
      if (draft.mailboxIds.length === 0) {
        throw invalidProperty(key, "an email must be in at least one mailbox");
      }
      return;
    case "keywords":
      if (!isObject(value)) throw invalidProperty(key, "must be an object of keywords set to true");
      for (const [keyword, flag] of Object.entries(value)) {
        if (flag !== true || !isKeyword(keyword)) {
          throw invalidProperty(key, `"${keyword}" is not a keyword set to true`);
        }
        draft.keywords.push(keyword);
      }
      return;
    case "receivedAt":
      draft.receivedAt = readUtcDate(value);
      if (draft.receivedAt === undefined) {
        throw invalidProperty(key, "must be a UTCDate such as 2026-12-06T10:00:00Z");
      }
      return;
    case "sentAt":
      if (value !== null && readDate(value) === undefined) {
        throw invalidProperty(key, "must be a Date such as 2026-12-06T10:00:00+01:00, or null");
      }
      message.sentAt = value as string | null;
      return;
    case "subject":
      if (value !== null && (typeof value !== "string" || CONTROL.test(value))) {
        throw invalidProperty(key, "must be a string without line breaks, or null");
      }
      message.subject = value as string | null;
      return;
    case "textBody":
    case "htmlBody": {
      const type = key === "textBody" ? "text/plain" : "text/html";
      if (!Array.isArray(value) || value.length !== 1) {
        // RFC 8621 §4.6: "If given, textBody MUST contain exactly one body part and it MUST be of type
        // 'text/plain'." (htmlBody likewise, of type text/html)
        throw invalidProperty(key, "must be a list of exactly one EmailBodyPart");
      }
      const part = readPart(value[0], { property: key, bodyValues, ctx, depth: 0, defaultType: type });
      if (part.type.split(";")[0] !== type) throw invalidProperty(key, `its part must be of type ${type}`);
      parts[key === "textBody" ? "text" : "html"] = part;
      return;
    }
    case "attachments":
      if (!Array.isArray(value)) throw invalidProperty(key, "must be a list of EmailBodyPart objects");
      parts.attachments = value.map((part) =>
        readPart(part, { property: key, bodyValues, ctx, depth: 0, defaultType: "application/octet-stream" })
      );
      return;
    case "bodyValues":
      return;
    case "bodyStructure":
      if (["textBody", "htmlBody", "attachments"].some((k) => call.object[k] !== undefined)) {
        throw invalidProperty(key, "is given instead of textBody, htmlBody and attachments, not with them");
      }
      draft.structure = readPart(value, { property: key, bodyValues, ctx, depth: 0 });
      // RFC 8621 §4.6: the bodyStructure part "MUST NOT contain a property representing a header field
      // that is already defined on the top-level Email object."
      for (const field of new Set((draft.structure.headers ?? []).map((h) => h.name.toLowerCase()))) {
        call.writes(field, key);
      }
      return;
  }
  if ((ADDRESS_PROPERTIES as readonly string[]).includes(key)) {
    message[key as typeof ADDRESS_PROPERTIES[number]] = addresses(key, value);
  } else if ((ID_PROPERTIES as readonly string[]).includes(key)) {
    message[key as typeof ID_PROPERTIES[number]] = messageIds(key, value);
  } else {
    throw invalidProperty(key, "is not an Email property");
  }
}

/**
 * The parts of textBody, htmlBody and attachments into the draft: as text, HTML and attachments when
 * they are no more than that (the composer lays them out), else as the body structure RFC 8621 §4.6
 * describes (multipart/alternative of text and HTML, in a multipart/mixed with the attachments), so
 * a part given by blobId, or with cid, language, location, disposition, name or header fields,
 * keeps them.
 */
function placeParts(draft: Draft, parts: Parts, object: JmapObject): void {
  const onlyKeys = (value: unknown, keys: string[]) =>
    isObject(value) && Object.keys(value).every((k) => keys.includes(k));
  const bodies = [object.textBody, object.htmlBody].flatMap((b) => Array.isArray(b) ? b : []);
  const simple = bodies.every((p) => onlyKeys(p, ["partId", "type"])) &&
    (Array.isArray(object.attachments) ? object.attachments : []).every((p) =>
      onlyKeys(p, ["blobId", "type", "name", "disposition", "cid", "size"])
    );
  if (simple) {
    if (parts.text) draft.message.text = parts.text.text;
    if (parts.html) draft.message.html = parts.html.text;
    draft.attachments = parts.attachments.map((a) => ({
      blobId: a.blobId!,
      type: a.type,
      name: a.name ?? null,
      disposition: a.disposition ?? null,
      cid: a.cid ?? null,
    }));
    return;
  }
  const body = parts.text && parts.html
    ? { type: "multipart/alternative", subParts: [parts.text, parts.html] }
    : parts.text ?? parts.html;
  const attachments = parts.attachments.map((a) => ({ ...a, disposition: a.disposition ?? "attachment" }));
  draft.structure = attachments.length
    ? { type: "multipart/mixed", subParts: [...(body ? [body] : []), ...attachments] }
    : body;
}

/** bodyValues: partId → {value, isEncodingProblem, isTruncated}, both flags false or omitted (§4.6). */
function checkBodyValues(value: unknown): void {
  if (value === undefined) return;
  if (!isObject(value)) throw invalidProperty("bodyValues", "must be an object");
  for (const [partId, body] of Object.entries(value)) {
    if (!isObject(body) || typeof body.value !== "string") {
      throw invalidProperty("bodyValues", `"${partId}" must be an EmailBodyValue with a string value`);
    }
    if ((body.isEncodingProblem ?? false) !== false || (body.isTruncated ?? false) !== false) {
      // RFC 8621 §4.6: "The 'isEncodingProblem' and 'isTruncated' properties MUST be either false or
      // omitted."
      throw invalidProperty("bodyValues", "isEncodingProblem and isTruncated must be false or omitted");
    }
  }
}

/** A header:{name}[:as{Form}][:all] key; a malformed one is invalid as the property it is. */
function readHeaderKey(key: string, report = key): HeaderProperty {
  try {
    return parseHeaderProperty(key)!;
  } catch (error) {
    if (error instanceof MethodError) throw invalidProperty(report, error.message);
    throw error;
  }
}

/** The header fields a header property writes: one, none for null, one per item for :all. */
function headerFields(key: string, header: HeaderProperty, value: unknown, report = key): HeaderField[] {
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

function addresses(property: string, value: unknown) {
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

function messageIds(property: string, value: unknown) {
  if (value === null) return null;
  if (
    !Array.isArray(value) ||
    !value.every((v) => typeof v === "string" && /^[^<>\s]+$/.test(v) && !CONTROL.test(v))
  ) {
    throw invalidProperty(property, "must be a list of message ids without angle brackets, or null");
  }
  return value as string[];
}

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

interface PartContext {
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
function readPart(value: unknown, context: PartContext): StructureDraft {
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
function collectPartIds(value: unknown, into: Set<unknown>): void {
  if (!isObject(value)) return;
  if (typeof value.partId === "string") into.add(value.partId);
  if (Array.isArray(value.subParts)) { for (const child of value.subParts) collectPartIds(child, into); }
}
