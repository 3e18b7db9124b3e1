/**
 * The properties of Email/set create (RFC 8621 §4.6), checked: what the message is made of. A
 * property the server sets, or one of the wrong type, is refused naming it.
 */
import type { EmailService } from "../../mail/mod.ts";
import { isKeyword } from "../../mail/mod.ts";
import { invalidProperty } from "../../model/errors.ts";
import { decodeId } from "../../model/ids.ts";
import type { MethodContext } from "../engine.ts";
import { resolveCreationIds } from "../standard/creation_ids.ts";
import type { JmapObject } from "../standard/data_type.ts";
import { parseHeaderProperty } from "./header_property.ts";
import { readDate, readUtcDate } from "../dates.ts";

/** What EmailService.create takes. */
export type Draft = Parameters<EmailService["create"]>[2];

const SERVER_SET = ["id", "blobId", "threadId", "size", "hasAttachment", "preview"];
const ADDRESS_PROPERTIES = ["from", "sender", "to", "cc", "bcc", "replyTo"] as const;
const ID_PROPERTIES = ["messageId", "inReplyTo", "references"] as const;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Reads the create object into a draft. */
export function readDraft(object: JmapObject, ctx: MethodContext): Draft {
  const draft: Draft = { message: { headers: [] }, attachments: [], mailboxIds: [], keywords: [] };
  const message = draft.message;
  const bodyValues = isObject(object.bodyValues) ? object.bodyValues : {};
  if (object.bodyValues !== undefined && !isObject(object.bodyValues)) {
    throw invalidProperty("bodyValues", "must be an object");
  }
  for (const [key, value] of Object.entries(object)) {
    if (SERVER_SET.includes(key)) throw invalidProperty(key, "is set by the server");
    if (key.startsWith("header:")) {
      const header = parseHeaderProperty(key)!;
      if (header.all || (header.form !== "Raw" && header.form !== "Text")) {
        throw invalidProperty(key, "only the Raw and Text forms of a single header can be written");
      }
      if (typeof value !== "string") throw invalidProperty(key, "must be a string");
      message.headers.push({ name: key.slice("header:".length).split(":")[0], value });
      continue;
    }
    switch (key) {
      case "mailboxIds":
        if (!isObject(value)) throw invalidProperty(key, "must be an object of mailbox ids set to true");
        for (const [id, flag] of Object.entries(value)) {
          const mailbox = decodeId(String(resolveCreationIds(id, ctx)));
          if (flag !== true || mailbox === undefined) {
            throw invalidProperty(key, `"${id}" must be a mailbox id set to true`);
          }
          draft.mailboxIds.push(mailbox);
        }
        break;
      case "keywords":
        if (!isObject(value)) throw invalidProperty(key, "must be an object of keywords set to true");
        for (const [keyword, flag] of Object.entries(value)) {
          if (flag !== true || !isKeyword(keyword)) {
            throw invalidProperty(key, `"${keyword}" is not a keyword set to true`);
          }
          draft.keywords.push(keyword);
        }
        break;
      case "receivedAt":
        draft.receivedAt = readUtcDate(value);
        if (draft.receivedAt === undefined) {
          throw invalidProperty(key, "must be a UTCDate such as 2026-12-06T10:00:00Z");
        }
        break;
      case "sentAt":
        if (value !== null && readDate(value) === undefined) {
          throw invalidProperty(key, "must be a Date such as 2026-12-06T10:00:00+01:00, or null");
        }
        message.sentAt = value as string | null;
        break;
      case "subject":
        if (value !== null && typeof value !== "string") {
          throw invalidProperty(key, "must be a string or null");
        }
        message.subject = value as string | null;
        break;
      case "textBody":
      case "htmlBody": {
        const type = key === "textBody" ? "text/plain" : "text/html";
        message[key === "textBody" ? "text" : "html"] = bodyPart(key, value, type, bodyValues);
        break;
      }
      case "attachments":
        if (!Array.isArray(value)) throw invalidProperty(key, "must be a list of EmailBodyPart objects");
        draft.attachments = value.map((part, i) => attachment(part, `attachments/${i}`, ctx));
        break;
      case "bodyValues":
        break;
      case "bodyStructure":
        if (["textBody", "htmlBody", "attachments"].some((k) => object[k] !== undefined)) {
          throw invalidProperty(key, "is given instead of textBody, htmlBody and attachments, not with them");
        }
        draft.structure = structurePart(value, { bodyValues, ctx, depth: 0 });
        break;
      default:
        if ((ADDRESS_PROPERTIES as readonly string[]).includes(key)) {
          message[key as typeof ADDRESS_PROPERTIES[number]] = addresses(key, value);
        } else if ((ID_PROPERTIES as readonly string[]).includes(key)) {
          message[key as typeof ID_PROPERTIES[number]] = messageIds(key, value);
        } else {
          throw invalidProperty(key, "is not an Email property");
        }
    }
  }
  if (draft.mailboxIds.length === 0) {
    throw invalidProperty("mailboxIds", "an email must be in at least one mailbox");
  }
  const used = new Set(
    [object.textBody, object.htmlBody].flatMap((b) => Array.isArray(b) ? b.map((p) => p?.partId) : []),
  );
  collectPartIds(object.bodyStructure, used);
  for (const partId of Object.keys(bodyValues)) {
    if (!used.has(partId)) {
      throw invalidProperty("bodyValues", `"${partId}" is not the partId of textBody or htmlBody`);
    }
  }
  return draft;
}

/** The text of the one part of textBody or htmlBody, from bodyValues. */
function bodyPart(key: string, value: unknown, type: string, bodyValues: Record<string, unknown>): string {
  if (!Array.isArray(value) || value.length !== 1 || !isObject(value[0])) {
    throw invalidProperty(key, "must be a list of exactly one EmailBodyPart");
  }
  const part = value[0];
  if (part.type !== undefined && part.type !== type) {
    throw invalidProperty(key, `its part must be of type ${type}`);
  }
  if (part.blobId !== undefined) {
    throw invalidProperty(key, "its part takes its text from bodyValues, not a blobId");
  }
  const body = typeof part.partId === "string" ? bodyValues[part.partId] : undefined;
  if (!isObject(body) || typeof body.value !== "string") {
    throw invalidProperty(key, "its partId must name a bodyValues entry with a string value");
  }
  if (body.isEncodingProblem === true || body.isTruncated === true) {
    throw invalidProperty("bodyValues", "isEncodingProblem and isTruncated must be false in a new email");
  }
  return body.value;
}

function attachment(value: unknown, property: string, ctx: MethodContext): Draft["attachments"][number] {
  if (!isObject(value)) throw invalidProperty(property, "must be an EmailBodyPart object");
  const blobId = resolveCreationIds(value.blobId, ctx);
  if (typeof blobId !== "string") throw invalidProperty(property, "needs the blobId of an upload");
  const text = (name: string) => {
    const v = value[name];
    if (v !== undefined && v !== null && typeof v !== "string") {
      throw invalidProperty(property, `"${name}" must be a string`);
    }
    return (v as string | undefined) ?? null;
  };
  const type = text("type") ?? "application/octet-stream";
  if (!/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/.test(type)) {
    throw invalidProperty(property, `"${type}" is not a media type`);
  }
  return { blobId, type, name: text("name"), disposition: text("disposition"), cid: text("cid") };
}

function addresses(property: string, value: unknown) {
  if (value === null) return null;
  if (
    !Array.isArray(value) ||
    !value.every((a) =>
      isObject(a) && typeof a.email === "string" &&
      (a.name === undefined || a.name === null || typeof a.name === "string")
    )
  ) throw invalidProperty(property, "must be a list of {name, email} or null");
  return value.map((a) => ({
    name: (a.name as string | null | undefined) ?? null,
    email: a.email as string,
  }));
}

function messageIds(property: string, value: unknown) {
  if (value === null) return null;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && /^[^<>\s]+$/.test(v))) {
    throw invalidProperty(property, "must be a list of message ids without angle brackets, or null");
  }
  return value as string[];
}

/** Parts nest at most this deep in a body structure written by a client. */
const MAX_STRUCTURE_DEPTH = 10;

/** One EmailBodyPart of a written bodyStructure: a multipart with subParts, or a leaf with partId or blobId. */
function structurePart(
  value: unknown,
  context: { bodyValues: Record<string, unknown>; ctx: MethodContext; depth: number },
): NonNullable<Draft["structure"]> {
  const property = "bodyStructure";
  if (!isObject(value)) throw invalidProperty(property, "every part must be an EmailBodyPart object");
  if (context.depth > MAX_STRUCTURE_DEPTH) {
    throw invalidProperty(property, `parts nest at most ${MAX_STRUCTURE_DEPTH} deep`);
  }
  const text = (name: string) => {
    const v = value[name];
    if (v !== undefined && v !== null && typeof v !== "string") {
      throw invalidProperty(property, `"${name}" must be a string`);
    }
    return (v as string | undefined) ?? null;
  };
  const type = (text("type") ?? (Array.isArray(value.subParts) ? "multipart/mixed" : "text/plain"))
    .toLowerCase();
  if (!/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/.test(type)) {
    throw invalidProperty(property, `"${type}" is not a media type`);
  }
  const language = value.language;
  if (
    language !== undefined && language !== null &&
    !(Array.isArray(language) && language.every((l) => typeof l === "string"))
  ) {
    throw invalidProperty(property, '"language" must be a list of strings');
  }
  const headers: { name: string; value: string }[] = [];
  if (value.headers !== undefined && value.headers !== null) {
    if (!Array.isArray(value.headers)) {
      throw invalidProperty(property, '"headers" must be a list of {name, value}');
    }
    for (const header of value.headers) {
      if (
        !isObject(header) || typeof header.name !== "string" || typeof header.value !== "string" ||
        !/^[!-9;-~]+$/.test(header.name)
      ) {
        throw invalidProperty(property, '"headers" must be a list of {name, value}');
      }
      // The part's own content headers are written from its properties.
      if (!/^content-/i.test(header.name)) headers.push({ name: header.name, value: header.value });
    }
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
  if (type.startsWith("multipart/")) {
    if (!Array.isArray(value.subParts) || value.subParts.length === 0) {
      throw invalidProperty(property, `a ${type} part needs its subParts`);
    }
    if (value.partId !== undefined || value.blobId !== undefined) {
      throw invalidProperty(property, "a multipart has subParts, not a partId or blobId");
    }
    return {
      ...common,
      subParts: value.subParts.map((child) => structurePart(child, { ...context, depth: context.depth + 1 })),
    };
  }
  if (value.subParts !== undefined && value.subParts !== null) {
    throw invalidProperty(property, `a ${type} part has no subParts`);
  }
  if (typeof value.partId === "string") {
    if (value.blobId !== undefined) {
      throw invalidProperty(property, "a part has a partId or a blobId, not both");
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
  return { ...common, blobId };
}

/** The partIds a written bodyStructure uses. */
function collectPartIds(value: unknown, into: Set<unknown>): void {
  if (!isObject(value)) return;
  if (typeof value.partId === "string") into.add(value.partId);
  if (Array.isArray(value.subParts)) { for (const child of value.subParts) collectPartIds(child, into); }
}
