/**
 * Mailbox/changes as a grantee sees the owner's account (RFC 8620 §5.2, RFC 9670): only mailboxes it
 * may see. The owner's log names every mailbox; for a grantee each id is placed by what it could see
 * when it got `oldState` and what it sees now:
 *
 * - sees it now, did not then (new, or newly shared with it): created;
 * - saw it then and sees it now: updated (when it or the grantee's rights on it changed);
 * - saw it then, not now (destroyed, unshared): destroyed, so the client drops it;
 * - never saw it (the owner's private mailboxes): not named at all, not even as destroyed.
 *
 * "Then" comes from the MailboxView rows sharing writes (MailboxService.visibleAt). Mailbox/queryChanges
 * likewise removes only ids the grantee sees or saw. The owner's answers pass unchanged.
 */
import type { MailboxService } from "../../mail/mod.ts";
import { decodeId, encodeId } from "../../model/ids.ts";
import type { MethodContext, MethodDefinition } from "../engine.ts";

/**
 * What a grantee sees of the account the call is on, now and between two of its states; undefined for
 * the owner (whose answer passes unchanged).
 */
async function granteeView(
  ctx: MethodContext,
  mailboxes: MailboxService,
  [from, to]: unknown[],
): Promise<{ visibleNow: Set<number>; visibleThen: Map<number, boolean> } | undefined> {
  const viewerId = ctx.principal.accountId;
  const accountId = decodeId(ctx.accountId ?? "");
  if (accountId === undefined || accountId === viewerId) return undefined;
  const visibleNow = new Set((await mailboxes.list(viewerId, accountId)).map((m) => m.id));
  const visibleThen = await mailboxes.visibleAt(viewerId, accountId, Number(from), Number(to));
  return { visibleNow, visibleThen };
}

/** Wraps the standard Mailbox/changes so a grantee's answer names only what it may see. */
export function mailboxChangesInView(
  definition: MethodDefinition,
  mailboxes: MailboxService,
): MethodDefinition {
  return {
    ...definition,
    async handler(args, ctx) {
      const result = await definition.handler(args, ctx);
      const view = await granteeView(ctx, mailboxes, [result.oldState, result.newState]);
      if (!view) return result;
      const { visibleNow, visibleThen } = view;
      const ids = (key: string) =>
        (result[key] as string[]).map(decodeId).filter((id): id is number => id !== undefined);
      const createdInLog = new Set(ids("created"));
      const created: string[] = [];
      const updated: string[] = [];
      const destroyed: string[] = [];
      for (
        const id of new Set([...createdInLog, ...ids("updated"), ...ids("destroyed"), ...visibleThen.keys()])
      ) {
        const sawIt = visibleThen.get(id) ?? (visibleNow.has(id) && !createdInLog.has(id));
        if (visibleNow.has(id)) (sawIt ? updated : created).push(encodeId(id));
        else if (sawIt) destroyed.push(encodeId(id));
      }
      // Mailboxes coming into or out of the grantee's sight are more than counts (RFC 8621 §2.2).
      const updatedProperties = created.length || destroyed.length || !updated.length
        ? null
        : result.updatedProperties;
      return { ...result, created, updated, destroyed, updatedProperties };
    },
  };
}

/** Wraps the standard Mailbox/queryChanges so a grantee's `removed` names only mailboxes it sees or saw. */
export function mailboxQueryChangesInView(
  definition: MethodDefinition,
  mailboxes: MailboxService,
): MethodDefinition {
  return {
    ...definition,
    async handler(args, ctx) {
      const result = await definition.handler(args, ctx);
      const view = await granteeView(ctx, mailboxes, [result.oldQueryState, result.newQueryState]);
      if (!view) return result;
      const { visibleNow, visibleThen } = view;
      const removed = (result.removed as string[]).filter((wire) => {
        const id = decodeId(wire);
        return id !== undefined && (visibleNow.has(id) || visibleThen.get(id) === true);
      });
      return { ...result, removed };
    },
  };
}
