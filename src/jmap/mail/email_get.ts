/**
 * Email/get (RFC 8621 §4.2): metadata and header properties from the stored email, body properties
 * from the message parsed on demand (only when one is asked for), `header:` properties in any form,
 * body values with the fetch* arguments and maxBodyValueBytes.
 */
import { blobId, type EmailService, type EmailView, parseBody, partBlobId } from "../../mail/mod.ts";
import {
  BODY_PROPERTIES,
  bodyPartWire,
  bodyValue,
  DEFAULT_BODY_PROPERTIES,
  type EmailBody,
  type MimePart,
  partId,
} from "../../mail/mime/mod.ts";
import { decodeId, encodeId } from "../../model/ids.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import { Args } from "../standard/args.ts";
import { resolveCreationIds } from "../standard/creation_ids.ts";
import type { JmapObject } from "../standard/data_type.ts";
import { type HeaderProperty, headerValue, parseHeaderProperty } from "./header_property.ts";
import { utcDate } from "../dates.ts";

/** RFC 8621 §4.2: the properties Email/get returns when none are asked for. */
export const DEFAULT_EMAIL_PROPERTIES = [
  "id",
  "blobId",
  "threadId",
  "mailboxIds",
  "keywords",
  "size",
  "receivedAt",
  "messageId",
  "inReplyTo",
  "references",
  "sender",
  "from",
  "to",
  "cc",
  "bcc",
  "replyTo",
  "subject",
  "sentAt",
  "hasAttachment",
  "preview",
  "bodyValues",
  "textBody",
  "htmlBody",
  "attachments",
] as const;

/** Every Email property (besides `header:…`); `headers` is every header field, raw, in order (§4.1.3). */
export const EMAIL_PROPERTIES = [...DEFAULT_EMAIL_PROPERTIES, "bodyStructure", "headers"] as const;

export const HEADER_PROPERTIES = new Set([
  "messageId",
  "inReplyTo",
  "references",
  "sender",
  "from",
  "to",
  "cc",
  "bcc",
  "replyTo",
  "subject",
]);
/** Properties that need the message itself. */
const BODY_NEEDS = new Set(["bodyStructure", "bodyValues", "textBody", "htmlBody", "attachments", "headers"]);

/**
 * Properties (and, separately, bodyProperties) one Email/get or Email/parse may ask for, duplicates
 * counted once: every Email property is 25, so this leaves room for 200 `header:` forms; more is
 * `requestTooLarge` (20,000 header properties of 200 emails built a 129 MB answer over a minute).
 */
export const MAX_ASKED_PROPERTIES = 256;
/**
 * Bytes of JSON the list of one Email/get may reach: past it the call is `requestTooLarge` (ask for
 * fewer ids, or bound bodyValues with maxBodyValueBytes) rather than an answer that fills memory.
 */
export const MAX_GET_RESPONSE_BYTES = 32_000_000;

/** What Email/get uses. */
export interface EmailGetDeps {
  emails: EmailService;
  maxObjectsInGet: number;
  /** The Email state of an account. */
  state(accountId: number): Promise<string>;
  /** Checks the accountId argument (accountNotFound when the caller cannot see it). */
  checkAccount(ctx: MethodContext, accountId: unknown): Promise<string>;
}

/** What a call asked for, checked. */
export interface Asked {
  properties: string[];
  headers: Map<string, HeaderProperty>;
  bodyProperties: string[];
  bodyHeaders: Map<string, HeaderProperty>;
  fetchText: boolean;
  fetchHtml: boolean;
  fetchAll: boolean;
  maxBodyValueBytes: number;
}

/** The Email/get handler. */
export async function emailGet(
  raw: Record<string, unknown>,
  ctx: MethodContext,
  deps: EmailGetDeps,
): Promise<JmapObject> {
  const args = new Args(raw, ["accountId", "ids", ...ASKED_ARGUMENTS], "Email/get");
  const accountId = await deps.checkAccount(ctx, args.raw("accountId"));
  ctx.accountId = accountId;
  const account = decodeId(accountId)!;
  const wireIds = args.stringList("ids")?.map((id) => resolveCreationIds(id, ctx) as string) ?? null;
  if (wireIds === null) {
    throw new MethodError("requestTooLarge", "Email/get needs ids: ask Email/query for them");
  }
  if (wireIds.length > deps.maxObjectsInGet) {
    throw new MethodError(
      "requestTooLarge",
      `At most ${deps.maxObjectsInGet} ids per Email/get (maxObjectsInGet)`,
    );
  }
  const asked = readAsked(args);
  const state = await deps.state(account);
  const unique = [...new Set(wireIds)];
  const numeric = unique.map((id) => decodeId(id)).filter((id): id is number => id !== undefined);
  const found = new Map(
    (await deps.emails.get(ctx.principal.accountId, account, numeric)).map((e) => [encodeId(e.id), e]),
  );
  const list: JmapObject[] = [];
  let bytes = 0;
  for (const id of unique) {
    const email = found.get(id);
    if (!email) continue;
    const wire = await toWire(email, asked, { ctx, deps, account });
    bytes = addToAnswer(bytes, wire, `email ${list.length + 1} of ${unique.length}`);
    list.push(wire);
  }
  return { accountId, state, list, notFound: unique.filter((id) => !found.has(id)) };
}

/** The arguments `readAsked` reads: what to answer of each email (Email/get and Email/parse). */
export const ASKED_ARGUMENTS = [
  "properties",
  "bodyProperties",
  "fetchTextBodyValues",
  "fetchHTMLBodyValues",
  "fetchAllBodyValues",
  "maxBodyValueBytes",
] as const;

/** What to answer of each email, from the ASKED_ARGUMENTS; unknown properties are invalidArguments. */
export function readAsked(args: Args, defaults: readonly string[] = DEFAULT_EMAIL_PROPERTIES): Asked {
  const properties = asked(args, "properties") ?? [...defaults];
  const headers = new Map<string, HeaderProperty>();
  for (const property of properties) {
    const header = parseHeaderProperty(property);
    if (header) headers.set(property, header);
    else if (!(EMAIL_PROPERTIES as readonly string[]).includes(property)) {
      throw new MethodError("invalidArguments", `Email has no property "${property}"`);
    }
  }
  const bodyProperties = asked(args, "bodyProperties") ?? [...DEFAULT_BODY_PROPERTIES];
  const bodyHeaders = new Map<string, HeaderProperty>();
  for (const property of bodyProperties) {
    const header = parseHeaderProperty(property);
    if (header) bodyHeaders.set(property, header);
    else if (!(BODY_PROPERTIES as readonly string[]).includes(property)) {
      throw new MethodError("invalidArguments", `EmailBodyPart has no property "${property}"`);
    }
  }
  return {
    properties: properties.includes("id") ? properties : ["id", ...properties],
    headers,
    bodyProperties,
    bodyHeaders,
    fetchText: args.boolean("fetchTextBodyValues", false),
    fetchHtml: args.boolean("fetchHTMLBodyValues", false),
    fetchAll: args.boolean("fetchAllBodyValues", false),
    maxBodyValueBytes: args.unsigned("maxBodyValueBytes", 0)!,
  };
}

/**
 * The bytes of an Email/get or Email/parse answer once `wire` is added to `bytes`; requestTooLarge
 * past MAX_GET_RESPONSE_BYTES (`at` names the object that passed it).
 */
export function addToAnswer(bytes: number, wire: JmapObject, at: string): number {
  const total = bytes + JSON.stringify(wire).length;
  if (total > MAX_GET_RESPONSE_BYTES) {
    throw new MethodError(
      "requestTooLarge",
      `The answer passes ${MAX_GET_RESPONSE_BYTES} bytes at ${at}: ask for fewer ids or properties, or set maxBodyValueBytes`,
    );
  }
  return total;
}

/** A list of property names without duplicates, at most MAX_ASKED_PROPERTIES of them; null when absent. */
function asked(args: Args, name: "properties" | "bodyProperties"): string[] | null {
  const list = args.stringList(name);
  if (list === null) return null;
  const unique = [...new Set(list)];
  if (unique.length > MAX_ASKED_PROPERTIES) {
    throw new MethodError(
      "requestTooLarge",
      `"${name}" names ${unique.length} properties; at most ${MAX_ASKED_PROPERTIES} may be asked for at once`,
    );
  }
  return unique;
}

async function toWire(
  email: EmailView,
  asked: Asked,
  call: { ctx: MethodContext; deps: EmailGetDeps; account: number },
): Promise<JmapObject> {
  const needsBody = asked.properties.some((p) => BODY_NEEDS.has(p)) || asked.headers.size > 0;
  const body = needsBody
    ? await parseBody(await call.deps.emails.message(call.ctx.principal.accountId, call.account, email))
    : undefined;
  const headers = JSON.parse(email.headers) as Record<string, unknown>;
  const out: JmapObject = {};
  for (const property of asked.properties) {
    if (HEADER_PROPERTIES.has(property)) {
      out[property] = headers[property] ?? null;
      continue;
    }
    const fromMessage = body && messageProperty(property, body, blobId(email.blobHash), asked);
    if (fromMessage !== undefined) {
      out[property] = fromMessage;
      continue;
    }
    switch (property) {
      case "id":
        out.id = encodeId(email.id);
        break;
      case "blobId":
        out.blobId = blobId(email.blobHash);
        break;
      case "threadId":
        out.threadId = encodeId(email.threadId);
        break;
      case "mailboxIds":
        out.mailboxIds = Object.fromEntries(email.visibleMailboxIds.map((m) => [encodeId(m), true]));
        break;
      case "keywords":
        out.keywords = Object.fromEntries(email.keywords.map((k) => [k, true]));
        break;
      case "size":
        out.size = email.size;
        break;
      case "receivedAt":
        out.receivedAt = utcDate(email.receivedAt);
        break;
      case "sentAt":
        out.sentAt = email.sentAt;
        break;
      case "hasAttachment":
        out.hasAttachment = email.hasAttachment;
        break;
      case "preview":
        out.preview = email.preview;
        break;
    }
  }
  return out;
}

/**
 * A property read from the parsed message, the same for a stored email and a parsed blob: a header
 * form, the body structure and lists, the body values; undefined for every other property.
 */
export function messageProperty(
  property: string,
  body: EmailBody,
  messageBlobId: string,
  asked: Asked,
): unknown {
  const header = asked.headers.get(property);
  if (header) return headerValue(body.root.headers, header);
  switch (property) {
    case "headers":
      // RFC 8621 §4.1.3: every header field of the message, in order, each value in Raw form.
      return body.root.headers.map((h) => ({ name: h.name, value: h.value }));
    case "bodyStructure":
      return partWire(body, body.root, messageBlobId, asked, true);
    case "textBody":
    case "htmlBody":
    case "attachments":
      return body[property].map((part) => partWire(body, part, messageBlobId, asked, false));
    case "bodyValues":
      return bodyValues(body, asked);
  }
  return undefined;
}

/** One EmailBodyPart; in the body structure every part has its subParts (null for a leaf). */
export function partWire(
  body: EmailBody,
  part: MimePart,
  messageBlobId: string,
  asked: Asked,
  structure: boolean,
): JmapObject {
  const wire = bodyPartWire(body, part, {
    properties: asked.bodyProperties.filter((p) => !asked.bodyHeaders.has(p) && p !== "subParts"),
    blobId: (leaf) => partBlobId(messageBlobId, leaf.index),
  });
  for (const [property, header] of asked.bodyHeaders) wire[property] = headerValue(part.headers, header);
  if (structure || asked.bodyProperties.includes("subParts")) {
    wire.subParts = part.subParts?.map((child) => partWire(body, child, messageBlobId, asked, structure)) ??
      null;
  }
  return wire;
}

/** RFC 8621 §4.2: values of the text parts the fetch* arguments ask for, by partId. */
export function bodyValues(body: EmailBody, asked: Asked): Record<string, unknown> {
  const parts = new Map<string, MimePart>();
  const add = (list: MimePart[]) => {
    for (const part of list) if (part.type.startsWith("text/")) parts.set(partId(part)!, part);
  };
  if (asked.fetchAll) {
    add([...body.textBody, ...body.htmlBody, ...body.attachments]);
  } else {
    if (asked.fetchText) add(body.textBody);
    if (asked.fetchHtml) add(body.htmlBody);
  }
  return Object.fromEntries(
    [...parts].map(([id, part]) => [id, bodyValue(body, part, asked.maxBodyValueBytes)]),
  );
}
