/** The standard /changes method, and the change-log reading it shares with /queryChanges. */
import type { LoggedChange } from "../../model/types.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import { Args } from "./args.ts";
import type { JmapObject } from "./data_type.ts";
import { changeScope, type StandardEnvironment } from "./environment.ts";
import { type ChangeSummary, summarize } from "./state.ts";

/** `Foo/changes` (RFC 8620 §5.2). */
export async function changes(
  raw: Record<string, unknown>,
  ctx: MethodContext,
  env: StandardEnvironment,
): Promise<JmapObject> {
  const { type, limits } = env;
  const args = new Args(raw, ["accountId", "sinceState", "maxChanges"], `${type.name}/changes`);
  const accountId = await type.checkAccount(ctx, args.raw("accountId"));
  ctx.accountId = accountId;
  const sinceState = args.optionalString("sinceState");
  if (sinceState === undefined) throw new MethodError("invalidArguments", '"sinceState" is required');
  const maxChanges = args.unsigned("maxChanges", limits.maxChanges)!;
  if (maxChanges === 0) throw new MethodError("invalidArguments", '"maxChanges" must be greater than 0');
  const rows = await changesSince(sinceState, ctx, env, accountId);
  const summary = summarize(rows, maxChanges, Number(sinceState));
  const newState = summary.hasMore
    ? String(summary.lastPosition)
    : await env.changes.state(type.changeType, changeScope(env, accountId));
  const wire = (ids: number[]) => ids.map((id) => type.wireId(id));
  return {
    accountId,
    oldState: sinceState,
    newState,
    hasMoreChanges: summary.hasMore,
    created: wire(summary.created),
    updated: wire(summary.updated),
    destroyed: wire(summary.destroyed),
    ...(type.countProperties ? { updatedProperties: updatedProperties(type.countProperties, summary) } : {}),
  };
}

/**
 * RFC 8621 §2.2: "If only the "totalEmails", "unreadEmails", "totalThreads", and/or "unreadThreads"
 * Mailbox properties have changed since the old state, this will be the list of properties that may
 * have changed. If the server is unable to tell if only counts have changed, it MUST just be null."
 * Null too when nothing changed: there is nothing to fetch.
 */
function updatedProperties(counts: readonly string[], summary: ChangeSummary): string[] | null {
  return summary.countsOnly && summary.updated.length > 0 ? [...counts] : null;
}

/**
 * The change-log rows after a state that the caller may see (see DataType.changeOwner), or
 * `cannotCalculateChanges` when the state is not one this type issued.
 */
export async function changesSince(
  state: string,
  ctx: MethodContext,
  env: StandardEnvironment,
  accountId: string,
): Promise<LoggedChange[]> {
  const { type, changes } = env;
  const rows = await changes.since(type.changeType, changeScope(env, accountId), state, {
    limit: 100_000,
    ownerId: type.changeOwner?.(ctx),
  });
  if (!rows) {
    throw new MethodError("cannotCalculateChanges", `State "${state}" is not a state of ${type.name}`);
  }
  return rows;
}
