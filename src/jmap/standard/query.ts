/** The standard /query and /queryChanges methods. */
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import { Args } from "./args.ts";
import { changesSince } from "./changes.ts";
import type { DataType, JmapObject, QueryWindow } from "./data_type.ts";
import { changeScope, currentState, type StandardEnvironment } from "./environment.ts";
import { checkFilter, checkSort, matches, sortObjects, windowIds } from "./query_window.ts";

function readWindow(type: DataType, args: Args): QueryWindow {
  const limit = args.unsigned("limit", undefined);
  return {
    filter: checkFilter(type, args.raw("filter")),
    sort: checkSort(type, args.raw("sort")),
    position: args.integer("position", 0),
    anchor: args.optionalString("anchor") ?? null,
    anchorOffset: args.integer("anchorOffset", 0),
    limit: limit ?? null,
    calculateTotal: args.boolean("calculateTotal", false),
  };
}

/** The full ordered id list of a query, computed in memory from every visible object. */
async function allIds(type: DataType, ctx: MethodContext, window: QueryWindow): Promise<string[]> {
  const { list } = await type.get(ctx, null);
  return sortObjects(list.filter((o) => matches(type, o, window.filter)), window.sort).map((o) =>
    String(o.id)
  );
}

/** `Foo/query` (RFC 8620 §5.5). */
export async function query(
  raw: Record<string, unknown>,
  ctx: MethodContext,
  env: StandardEnvironment,
): Promise<JmapObject> {
  const { type, limits } = env;
  const known = [
    "accountId",
    "filter",
    "sort",
    "position",
    "anchor",
    "anchorOffset",
    "limit",
    "calculateTotal",
    ...(type.queryArguments ?? []),
  ];
  const args = new Args(raw, known, `${type.name}/query`);
  const accountId = await type.checkAccount(ctx, args.raw("accountId"));
  ctx.accountId = accountId;
  const window = readWindow(type, args);
  for (const name of type.queryArguments ?? []) {
    if (raw[name] !== undefined) (window.arguments ??= {})[name] = raw[name];
  }
  if (window.anchor !== null && raw.position !== undefined && raw.position !== 0) {
    // RFC 8620 §5.5: position is ignored when an anchor is given; say so rather than guess.
    window.position = 0;
  }
  const queryState = await currentState(env, accountId);
  const outcome = type.query
    ? await type.query(ctx, window)
    : windowIds(await allIds(type, ctx, window), window, limits.maxQueryLimit);
  const result: JmapObject = {
    accountId,
    queryState: outcome.queryState ?? queryState,
    canCalculateChanges: true,
    position: outcome.position,
    ids: outcome.ids,
  };
  if (outcome.total !== undefined) result.total = outcome.total;
  if (window.limit !== null && window.limit > limits.maxQueryLimit) result.limit = limits.maxQueryLimit;
  return result;
}

/** `Foo/queryChanges` (RFC 8620 §5.6). */
export async function queryChanges(
  raw: Record<string, unknown>,
  ctx: MethodContext,
  env: StandardEnvironment,
): Promise<JmapObject> {
  const { type } = env;
  const known = ["accountId", "filter", "sort", "sinceQueryState", "maxChanges", "upToId", "calculateTotal"];
  const args = new Args(raw, known, `${type.name}/queryChanges`);
  const accountId = await type.checkAccount(ctx, args.raw("accountId"));
  ctx.accountId = accountId;
  const since = args.optionalString("sinceQueryState");
  if (since === undefined) throw new MethodError("invalidArguments", '"sinceQueryState" is required');
  const maxChanges = args.unsigned("maxChanges", undefined);
  args.optionalString("upToId");
  const window: QueryWindow = {
    filter: checkFilter(type, args.raw("filter")),
    sort: checkSort(type, args.raw("sort")),
    position: 0,
    anchor: null,
    anchorOffset: 0,
    limit: null,
    calculateTotal: true,
  };
  const rows = await changesSince(since, ctx, env, accountId);
  const newQueryState = await env.changes.state(type.changeType, changeScope(env, accountId));
  const touched = new Set(rows.map((r) => type.wireId(r.objectId)));
  // An object whose first change since the old state is its creation was in no result then.
  const born = new Set<string>();
  const seen = new Set<number>();
  for (const row of rows) {
    if (seen.has(row.objectId)) continue;
    seen.add(row.objectId);
    if (row.kind === "created") born.add(type.wireId(row.objectId));
  }
  const ids = type.query
    ? (await type.query(ctx, { ...window, limit: Number.MAX_SAFE_INTEGER })).ids
    : await allIds(type, ctx, window);
  // Every touched object that may have been in the old results is removed and, if it is in the
  // results now, added at its index: clients then place it correctly whatever its old position was
  // (RFC 8620 §5.6). One created since was not there: it is only added, if it is there now.
  const removed = [...touched].filter((id) => !born.has(id));
  const added = ids.flatMap((id, index) => touched.has(id) ? [{ id, index }] : []);
  if (maxChanges !== undefined && removed.length + added.length > maxChanges) {
    throw new MethodError(
      "tooManyChanges",
      `${removed.length + added.length} changes exceed maxChanges (${maxChanges})`,
    );
  }
  return { accountId, oldQueryState: since, newQueryState, total: ids.length, removed, added };
}
