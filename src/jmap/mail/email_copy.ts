/**
 * Copies between accounts the caller can use (RFC 8620 §6.3 Blob/copy, RFC 8621 §4.7 Email/copy). A
 * copy reads in the source account (mayReadItems for an email) and writes in the target one (an
 * upload, then an import there: mayAddItems, its quota); content is stored once whatever the copies.
 * With onSuccessDestroyOriginal the originals copied go, as an implicit Email/set in the response.
 */
import type { BlobService, EmailService } from "../../mail/mod.ts";
import { blobId as wireBlobId, isKeyword } from "../../mail/mod.ts";
import { ForbiddenError, NotFoundError, QuotaError } from "../../model/errors.ts";
import { decodeId, encodeId } from "../../model/ids.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import { Args } from "../standard/args.ts";
import { resolveCreationIds } from "../standard/creation_ids.ts";
import type { JmapObject } from "../standard/data_type.ts";
import { readUtcDate } from "../dates.ts";
import type { SetErrorType } from "../types.ts";

/** What the copy methods use. */
export interface CopyDeps {
  emails: EmailService;
  blobs: BlobService;
  maxObjectsInSet: number;
  checkAccount(ctx: MethodContext, accountId: unknown): Promise<string>;
  state(accountId: number): Promise<string>;
  /** Runs Email/set for the implicit destroy of onSuccessDestroyOriginal. */
  emailSet(args: Record<string, unknown>, ctx: MethodContext): Promise<Record<string, unknown>>;
}

type SetError = { type: SetErrorType; description: string; properties?: string[]; notFound?: string[] };

/** The two accounts of a copy, checked; copying within one account is invalidArguments. */
async function accounts(args: Args, ctx: MethodContext, deps: CopyDeps, method: string) {
  const fromAccountId = await deps.checkAccount(ctx, args.raw("fromAccountId"));
  const accountId = await deps.checkAccount(ctx, args.raw("accountId"));
  if (fromAccountId === accountId) {
    throw new MethodError(
      "invalidArguments",
      `${method} copies between two accounts: fromAccountId is accountId`,
    );
  }
  ctx.accountId = accountId;
  return { fromAccountId, accountId, from: decodeId(fromAccountId)!, to: decodeId(accountId)! };
}

/** Copies one blob; its refusal as a SetError. */
async function copyBlob(
  deps: CopyDeps,
  viewer: number,
  from: number,
  to: number,
  id: string,
): Promise<string | SetError> {
  try {
    const data = await deps.blobs.download(viewer, from, id);
    return (await deps.blobs.upload(viewer, to, { data, type: "application/octet-stream" })).blobId;
  } catch (error) {
    // RFC 8620 §6.3: "the notFound SetError error may be returned if the blobId to be copied cannot
    // be found" (Email/copy, RFC 8621 §4.7, allows notFound too).
    if (error instanceof NotFoundError) {
      return { type: "notFound", description: `No blob "${id}" in the source account is available to you` };
    }
    if (error instanceof QuotaError) return { type: "overQuota", description: error.message };
    if (error instanceof ForbiddenError) return { type: "forbidden", description: error.message };
    throw error;
  }
}

/** Blob/copy (RFC 8620 §6.3). */
export async function blobCopy(
  raw: Record<string, unknown>,
  ctx: MethodContext,
  deps: CopyDeps,
): Promise<JmapObject> {
  const args = new Args(raw, ["fromAccountId", "accountId", "blobIds"], "Blob/copy");
  const { fromAccountId, accountId, from, to } = await accounts(args, ctx, deps, "Blob/copy");
  const blobIds = args.stringList("blobIds");
  if (blobIds === null) throw new MethodError("invalidArguments", '"blobIds" is required');
  if (blobIds.length > deps.maxObjectsInSet) {
    throw new MethodError("requestTooLarge", `At most ${deps.maxObjectsInSet} blobIds per Blob/copy`);
  }
  const copied: Record<string, string> = {};
  const notCopied: Record<string, SetError> = {};
  for (const id of new Set(blobIds)) {
    const outcome = await copyBlob(deps, ctx.principal.accountId, from, to, id);
    if (typeof outcome === "string") copied[id] = outcome;
    else notCopied[id] = outcome;
  }
  return {
    fromAccountId,
    accountId,
    copied: Object.keys(copied).length ? copied : null,
    notCopied: Object.keys(notCopied).length ? notCopied : null,
  };
}

/** Email/copy (RFC 8621 §4.7). */
export async function emailCopy(
  raw: Record<string, unknown>,
  ctx: MethodContext,
  deps: CopyDeps,
): Promise<JmapObject> {
  const args = new Args(raw, [
    "fromAccountId",
    "ifFromInState",
    "accountId",
    "ifInState",
    "create",
    "onSuccessDestroyOriginal",
    "destroyFromIfInState",
  ], "Email/copy");
  const { fromAccountId, accountId, from, to } = await accounts(args, ctx, deps, "Email/copy");
  const create = args.map("create");
  if (create === null) throw new MethodError("invalidArguments", '"create" is required');
  if (Object.keys(create).length > deps.maxObjectsInSet) {
    throw new MethodError("requestTooLarge", `At most ${deps.maxObjectsInSet} emails per Email/copy`);
  }
  const viewer = ctx.principal.accountId;
  const fromState = await deps.state(from);
  const ifFromInState = args.optionalString("ifFromInState");
  if (ifFromInState !== undefined && ifFromInState !== fromState) {
    throw new MethodError(
      "stateMismatch",
      `The source's Email state is "${fromState}", not "${ifFromInState}"`,
    );
  }
  const oldState = await deps.state(to);
  const ifInState = args.optionalString("ifInState");
  if (ifInState !== undefined && ifInState !== oldState) {
    throw new MethodError("stateMismatch", `The Email state is "${oldState}", not "${ifInState}"`);
  }
  const created: Record<string, JmapObject> = {};
  const notCreated: Record<string, SetError> = {};
  const copiedOriginals: string[] = [];
  for (const [creationId, value] of Object.entries(create)) {
    const item = readCopy(value, ctx);
    if ("type" in item) {
      notCreated[creationId] = item;
      continue;
    }
    const [original] = await deps.emails.get(viewer, from, [decodeId(item.id) ?? -1]);
    if (!original) {
      notCreated[creationId] = {
        type: "notFound",
        description: `No email "${item.id}" in the source account is available to you`,
      };
      continue;
    }
    const blob = await copyBlob(deps, viewer, from, to, wireBlobId(original.blobHash));
    if (typeof blob !== "string") {
      notCreated[creationId] = blob;
      continue;
    }
    const [outcome] = await deps.emails.import(viewer, to, [{
      blobId: blob,
      mailboxIds: item.mailboxIds,
      keywords: item.keywords ?? original.keywords,
      receivedAt: item.receivedAt ?? original.receivedAt,
    }]);
    if ("type" in outcome) {
      const { existingId, ...rest } = outcome;
      notCreated[creationId] = existingId === undefined
        ? rest
        : { ...rest, existingId: encodeId(existingId) } as SetError;
      continue;
    }
    const id = encodeId(outcome.id);
    ctx.createdIds.set(creationId, id);
    created[creationId] = { id, blobId: blob, threadId: encodeId(outcome.threadId), size: outcome.size };
    copiedOriginals.push(item.id);
  }
  if (args.boolean("onSuccessDestroyOriginal", false) && copiedOriginals.length) {
    const destroyFromIfInState = args.optionalString("destroyFromIfInState");
    ctx.emit(
      "Email/set",
      await deps.emailSet({
        accountId: fromAccountId,
        destroy: copiedOriginals,
        ...(destroyFromIfInState === undefined ? {} : { ifInState: destroyFromIfInState }),
      }, { ...ctx, accountId: fromAccountId }),
    );
  }
  return {
    fromAccountId,
    accountId,
    oldState,
    newState: await deps.state(to),
    created: Object.keys(created).length ? created : null,
    notCreated: Object.keys(notCreated).length ? notCreated : null,
  };
}

/** One Email/copy create entry: the source email's id and where the copy goes. */
function readCopy(
  value: unknown,
  ctx: MethodContext,
): { id: string; mailboxIds: number[]; keywords?: string[]; receivedAt?: number } | SetError {
  const invalid = (property: string, description: string): SetError => ({
    type: "invalidProperties",
    description,
    properties: [property],
  });
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { type: "invalidProperties", description: "A copy must be an object with id and mailboxIds" };
  }
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (!["id", "mailboxIds", "keywords", "receivedAt"].includes(key)) {
      return invalid(
        key,
        `Only id, mailboxIds, keywords and receivedAt can be given to a copy, not "${key}"`,
      );
    }
  }
  const id = resolveCreationIds(object.id, ctx);
  if (typeof id !== "string") return invalid("id", '"id" must be the id of an email in the source account');
  const boxes = object.mailboxIds;
  if (typeof boxes !== "object" || boxes === null || Array.isArray(boxes)) {
    return invalid("mailboxIds", '"mailboxIds" must be an object of mailbox ids set to true');
  }
  const mailboxIds: number[] = [];
  for (const [key, flag] of Object.entries(boxes)) {
    const mailbox = decodeId(String(resolveCreationIds(key, ctx)));
    if (flag !== true || mailbox === undefined) {
      return invalid("mailboxIds", `"mailboxIds/${key}" must be a mailbox id set to true`);
    }
    mailboxIds.push(mailbox);
  }
  let keywords: string[] | undefined;
  if (object.keywords !== undefined) {
    const map = object.keywords;
    if (typeof map !== "object" || map === null || Array.isArray(map)) {
      return invalid("keywords", '"keywords" must be an object of keywords set to true');
    }
    keywords = [];
    for (const [keyword, flag] of Object.entries(map)) {
      if (flag !== true || !isKeyword(keyword)) {
        return invalid("keywords", `"keywords/${keyword}" is not a keyword set to true`);
      }
      keywords.push(keyword);
    }
  }
  let receivedAt: number | undefined;
  if (object.receivedAt !== undefined) {
    receivedAt = readUtcDate(object.receivedAt);
    if (receivedAt === undefined) {
      return invalid("receivedAt", '"receivedAt" must be a UTCDate such as 2026-12-06T10:00:00Z');
    }
  }
  return { id, mailboxIds, keywords, receivedAt };
}
