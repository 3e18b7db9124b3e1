/**
 * Email/parse (RFC 8621 §4.9): blobs read as messages without storing them, e.g. a forwarded
 * message attached to another (its part's blobId). What is not a message at all (no header field
 * before its body) is notParsable; a blob the caller cannot read is notFound.
 */
import { type BlobService, type MessageFacts, parseMessage } from "../../mail/mod.ts";
import type { EmailBody } from "../../mail/mime/mod.ts";
import { NotFoundError } from "../../model/errors.ts";
import { decodeId } from "../../model/ids.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import { Args } from "../standard/args.ts";
import type { JmapObject } from "../standard/data_type.ts";
import {
  addToAnswer,
  ASKED_ARGUMENTS,
  DEFAULT_EMAIL_PROPERTIES,
  HEADER_PROPERTIES,
  messageProperty,
  readAsked,
} from "./email_get.ts";

/** RFC 8621 §4.9: Email/get's defaults but those of a stored email (id, mailboxes, keywords…). */
const DEFAULT_PARSE_PROPERTIES = DEFAULT_EMAIL_PROPERTIES.filter((p) =>
  !["id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt"].includes(p)
);

/** What Email/parse uses. */
export interface EmailParseDeps {
  blobs: BlobService;
  maxObjectsInGet: number;
  checkAccount(ctx: MethodContext, accountId: unknown): Promise<string>;
}

/** The Email/parse handler. */
export async function emailParse(
  raw: Record<string, unknown>,
  ctx: MethodContext,
  deps: EmailParseDeps,
): Promise<JmapObject> {
  const args = new Args(raw, ["accountId", "blobIds", ...ASKED_ARGUMENTS], "Email/parse");
  const accountId = await deps.checkAccount(ctx, args.raw("accountId"));
  ctx.accountId = accountId;
  const blobIds = args.stringList("blobIds");
  if (blobIds === null) throw new MethodError("invalidArguments", '"blobIds" is required');
  if (blobIds.length > deps.maxObjectsInGet) {
    throw new MethodError("requestTooLarge", `At most ${deps.maxObjectsInGet} blobIds (maxObjectsInGet)`);
  }
  const asked = readAsked(args, DEFAULT_PARSE_PROPERTIES);
  const parsed: Record<string, JmapObject> = {};
  const notParsable: string[] = [];
  const notFound: string[] = [];
  let bytes = 0;
  const unique = [...new Set(blobIds)];
  for (const blobId of unique) {
    let data: Uint8Array;
    try {
      data = await deps.blobs.download(ctx.principal.accountId, decodeId(accountId)!, blobId);
    } catch (error) {
      if (error instanceof NotFoundError) {
        notFound.push(blobId);
        continue;
      }
      throw error;
    }
    // Parsed off the main thread when large (src/mail/parse_pool.ts); no header at all is not a message.
    const parsedMessage = await parseMessage(data);
    if (parsedMessage.body.root.headers.length === 0) {
      notParsable.push(blobId);
      continue;
    }
    const wire = parsedEmail(parsedMessage, blobId, asked);
    bytes = addToAnswer(bytes, wire, `blob ${Object.keys(parsed).length + 1} of ${unique.length}`);
    parsed[blobId] = wire;
  }
  return {
    accountId,
    parsed: Object.keys(parsed).length ? parsed : null,
    notParsable: notParsable.length ? notParsable : null,
    notFound: notFound.length ? notFound : null,
  };
}

/** One parsed message as an Email whose stored properties (id, mailboxes, keywords…) are null. */
function parsedEmail(
  { body, facts }: { body: EmailBody; facts: MessageFacts },
  blobId: string,
  asked: ReturnType<typeof readAsked>,
): JmapObject {
  const headers = facts.headers as unknown as Record<string, unknown>;
  const out: JmapObject = {};
  for (const property of asked.properties) {
    if (HEADER_PROPERTIES.has(property)) {
      out[property] = headers[property] ?? null;
      continue;
    }
    const fromMessage = messageProperty(property, body, blobId, asked);
    if (fromMessage !== undefined) {
      out[property] = fromMessage;
      continue;
    }
    switch (property) {
      case "blobId":
        out.blobId = blobId;
        break;
      case "size":
        out.size = body.message.length;
        break;
      case "sentAt":
        out.sentAt = facts.sentAt;
        break;
      case "hasAttachment":
        out.hasAttachment = facts.hasAttachment;
        break;
      case "preview":
        out.preview = facts.preview;
        break;
      default:
        // id, threadId, mailboxIds, keywords, receivedAt: a parsed message is not stored.
        out[property] = null;
    }
  }
  return out;
}
