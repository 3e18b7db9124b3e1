/** Email/import (RFC 8621 §4.8): messages from blobs into mailboxes, each created or refused on its own. */
import type { EmailService, ImportItem } from "../../mail/mod.ts";
import { isKeyword } from "../../mail/mod.ts";
import { blobId } from "../../mail/mod.ts";
import { decodeId, encodeId } from "../../model/ids.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import { Args } from "../standard/args.ts";
import { resolveCreationIds } from "../standard/creation_ids.ts";
import type { JmapObject } from "../standard/data_type.ts";
import { readUtcDate } from "../dates.ts";

/** What Email/import uses. */
export interface EmailImportDeps {
  emails: EmailService;
  maxObjectsInSet: number;
  state(accountId: number): Promise<string>;
  checkAccount(ctx: MethodContext, accountId: unknown): Promise<string>;
}

type Refusal = { type: string; description: string; properties?: string[]; existingId?: string };

/** The Email/import handler. */
export async function emailImport(
  raw: Record<string, unknown>,
  ctx: MethodContext,
  deps: EmailImportDeps,
): Promise<JmapObject> {
  const args = new Args(raw, ["accountId", "ifInState", "emails"], "Email/import");
  const accountId = await deps.checkAccount(ctx, args.raw("accountId"));
  ctx.accountId = accountId;
  const account = decodeId(accountId)!;
  const emails = args.map("emails");
  if (emails === null) throw new MethodError("invalidArguments", '"emails" is required');
  if (Object.keys(emails).length > deps.maxObjectsInSet) {
    throw new MethodError(
      "requestTooLarge",
      `At most ${deps.maxObjectsInSet} emails per Email/import (maxObjectsInSet)`,
    );
  }
  const oldState = await deps.state(account);
  const ifInState = args.optionalString("ifInState");
  if (ifInState !== undefined && ifInState !== oldState) {
    throw new MethodError("stateMismatch", `The Email state is "${oldState}", not "${ifInState}"`);
  }
  const created: Record<string, JmapObject> = {};
  const notCreated: Record<string, Refusal> = {};
  // Every well-formed item goes to the service in one call: one transaction for the whole request.
  const items: [string, ImportItem][] = [];
  for (const [creationId, value] of Object.entries(emails)) {
    const item = readItem(value, ctx);
    if ("type" in item) notCreated[creationId] = item;
    else items.push([creationId, item]);
  }
  const outcomes = items.length
    ? await deps.emails.import(ctx.principal.accountId, account, items.map(([, item]) => item))
    : [];
  outcomes.forEach((outcome, i) => {
    const creationId = items[i][0];
    if ("type" in outcome) {
      const { existingId, ...rest } = outcome;
      notCreated[creationId] = existingId === undefined
        ? rest
        : { ...rest, existingId: encodeId(existingId) };
      return;
    }
    const id = encodeId(outcome.id);
    ctx.createdIds.set(creationId, id);
    created[creationId] = {
      id,
      blobId: blobId(outcome.blobHash),
      threadId: encodeId(outcome.threadId),
      size: outcome.size,
    };
  });
  return {
    accountId,
    oldState,
    newState: await deps.state(account),
    created: Object.keys(created).length ? created : null,
    notCreated: Object.keys(notCreated).length ? notCreated : null,
  };
}

/** One EmailImport object, checked; a malformed one is its invalidProperties refusal. */
function readItem(value: unknown, ctx: MethodContext): ImportItem | Refusal {
  const invalid = (property: string, description: string): Refusal => ({
    type: "invalidProperties",
    description,
    properties: [property],
  });
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { type: "invalidProperties", description: "An EmailImport must be an object" };
  }
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (!["blobId", "mailboxIds", "keywords", "receivedAt"].includes(key)) {
      return invalid(key, `EmailImport has no property "${key}"`);
    }
  }
  const blob = resolveCreationIds(object.blobId, ctx);
  if (typeof blob !== "string") return invalid("blobId", '"blobId" must be the id of an uploaded blob');
  const boxes = object.mailboxIds;
  if (typeof boxes !== "object" || boxes === null || Array.isArray(boxes)) {
    return invalid("mailboxIds", '"mailboxIds" must be an object of mailbox ids set to true');
  }
  const mailboxIds: number[] = [];
  for (const [key, flag] of Object.entries(boxes)) {
    const id = decodeId(String(resolveCreationIds(key, ctx)));
    if (flag !== true || id === undefined) {
      return invalid("mailboxIds", `"mailboxIds/${key}" must be a mailbox id set to true`);
    }
    mailboxIds.push(id);
  }
  const keywordMap = object.keywords ?? {};
  if (typeof keywordMap !== "object" || keywordMap === null || Array.isArray(keywordMap)) {
    return invalid("keywords", '"keywords" must be an object of keywords set to true');
  }
  const keywords: string[] = [];
  for (const [keyword, flag] of Object.entries(keywordMap)) {
    if (flag !== true || !isKeyword(keyword)) {
      return invalid("keywords", `"keywords/${keyword}" is not a keyword set to true`);
    }
    keywords.push(keyword);
  }
  let receivedAt: number | undefined;
  if (object.receivedAt !== undefined && object.receivedAt !== null) {
    receivedAt = readUtcDate(object.receivedAt);
    if (receivedAt === undefined) {
      return invalid("receivedAt", '"receivedAt" must be a UTCDate such as 2026-12-06T10:00:00Z');
    }
  }
  return { blobId: blob, mailboxIds, keywords, receivedAt };
}
