/**
 * The properties of Email/set create (RFC 8621 §4.6), checked: what the message is made of. A
 * property the server sets, or one of the wrong type, is refused naming it; every invalid property
 * of one create is named, not only the first. Header fields are written in any of the forms of
 * §4.1.2 (header_write.ts), at the top level and on body parts.
 */
import type { EmailService } from "../../mail/mod.ts";
import { isKeyword } from "../../mail/mod.ts";
import { InvalidInputError, invalidProperty, type PropertyProblem } from "../../model/errors.ts";
import { decodeId } from "../../model/ids.ts";
import type { MethodContext } from "../engine.ts";
import { resolveCreationIds } from "../standard/creation_ids.ts";
import type { JmapObject } from "../standard/data_type.ts";
import {
  addresses,
  CONTROL,
  headerFields,
  isObject,
  messageIds,
  readHeaderKey,
} from "./email_draft_fields.ts";
import { collectPartIds, readPart } from "./email_draft_parts.ts";
import { readDate, readUtcDate } from "../dates.ts";

/** What EmailService.create takes. */
export type Draft = Parameters<EmailService["create"]>[2];
type StructureDraft = NonNullable<Draft["structure"]>;

const SERVER_SET = ["id", "blobId", "threadId", "size", "hasAttachment", "preview"];
const ADDRESS_PROPERTIES = ["from", "sender", "to", "cc", "bcc", "replyTo"] as const;
const ID_PROPERTIES = ["messageId", "inReplyTo", "references"] as const;

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
