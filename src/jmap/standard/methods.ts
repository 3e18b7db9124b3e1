/** The standard methods of RFC 8620 §5 for any data type: /get, /set, /changes, /query, /queryChanges. */
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
} from "../../model/errors.ts";
import { decodeId } from "../../model/ids.ts";
import type { MethodContext, MethodDefinition } from "../engine.ts";
import { MethodError, setError } from "../errors.ts";
import { applyPatch, PointerError } from "../../model/json_pointer.ts";
import type { SetError } from "../types.ts";
import { Args } from "./args.ts";
import type { DataType, JmapObject, QueryWindow } from "./data_type.ts";
import { checkFilter, checkSort, matches, sortObjects, windowIds } from "./query_window.ts";
import { type ChangeFeed, summarize } from "./state.ts";

/** Limits the standard methods enforce. */
export interface StandardLimits {
  maxObjectsInGet: number;
  maxObjectsInSet: number;
  /** Largest page a /query returns when no smaller limit is asked for. */
  maxQueryLimit: number;
  /** Most changes one /changes call reports when the client sets no maxChanges. */
  maxChanges: number;
}

/** Builds the method table entries of one data type. */
export function standardMethods(
  type: DataType,
  deps: { changes: ChangeFeed; limits: StandardLimits },
): [string, MethodDefinition][] {
  const state = () => deps.changes.state(type.changeType, null);
  const entries: [string, MethodDefinition][] = [
    [`${type.name}/get`, {
      capability: type.capability,
      handler: (a, c) => get(type, state, deps.limits, a, c),
    }],
    [`${type.name}/set`, {
      capability: type.capability,
      handler: (a, c) => set(type, state, deps.limits, a, c),
    }],
  ];
  if (!type.singleton) {
    entries.push(
      [`${type.name}/changes`, { capability: type.capability, handler: (a, c) => changes(type, deps, a, c) }],
      [`${type.name}/query`, {
        capability: type.capability,
        handler: (a, c) => query(type, state, deps.limits, a, c),
      }],
      [`${type.name}/queryChanges`, {
        capability: type.capability,
        handler: (a, c) => queryChanges(type, deps, a, c),
      }],
    );
  }
  return entries;
}

/** Resolves `#creationId` references in the id-holding properties of an object or patch. */
function resolveObjectReferences(type: DataType, object: JmapObject, ctx: MethodContext): JmapObject {
  return Object.fromEntries(
    Object.entries(object).map(([key, value]) => {
      const property = key.split("/")[0];
      return [key, type.idProperties.includes(property) ? resolveCreationIds(value, ctx) : value];
    }),
  );
}

/** Replaces `#creationId` strings by the ids created earlier in the request. */
function resolveCreationIds(value: unknown, ctx: MethodContext): unknown {
  if (typeof value === "string" && value.startsWith("#")) return ctx.createdIds.get(value.slice(1)) ?? value;
  if (Array.isArray(value)) return value.map((v) => resolveCreationIds(v, ctx));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveCreationIds(v, ctx)]));
  }
  return value;
}

async function get(
  type: DataType,
  state: () => Promise<string>,
  limits: StandardLimits,
  raw: Record<string, unknown>,
  ctx: MethodContext,
): Promise<JmapObject> {
  const args = new Args(raw, ["accountId", "ids", "properties"], `${type.name}/get`);
  const accountId = await type.checkAccount(ctx, args.raw("accountId"));
  const ids = args.stringList("ids")?.map((id) => resolveCreationIds(id, ctx) as string) ?? null;
  const properties = args.stringList("properties");
  if (ids && ids.length > limits.maxObjectsInGet) {
    throw new MethodError(
      "requestTooLarge",
      `At most ${limits.maxObjectsInGet} ids per /get (maxObjectsInGet)`,
    );
  }
  const unknown = properties?.find((p) => !type.properties.includes(p));
  if (unknown) throw new MethodError("invalidArguments", `${type.name} has no property "${unknown}"`);
  const currentState = await state();
  const { list, notFound } = await type.get(ctx, ids ? [...new Set(ids)] : null);
  if (!ids && list.length > limits.maxObjectsInGet) {
    throw new MethodError(
      "requestTooLarge",
      `${list.length} objects exceed maxObjectsInGet (${limits.maxObjectsInGet}); ask for ids from /query`,
    );
  }
  const shaped = properties
    ? list.map((o) =>
      Object.fromEntries(["id", ...properties.filter((p) => p !== "id")].map((p) => [p, o[p] ?? null]))
    )
    : list;
  return { accountId, state: currentState, list: shaped, notFound };
}

async function set(
  type: DataType,
  state: () => Promise<string>,
  limits: StandardLimits,
  raw: Record<string, unknown>,
  ctx: MethodContext,
): Promise<JmapObject> {
  const args = new Args(raw, ["accountId", "ifInState", "create", "update", "destroy"], `${type.name}/set`);
  const accountId = await type.checkAccount(ctx, args.raw("accountId"));
  const ifInState = args.optionalString("ifInState");
  const create = args.map("create") ?? {};
  const update = args.map("update") ?? {};
  const destroy = args.stringList("destroy") ?? [];
  const count = Object.keys(create).length + Object.keys(update).length + destroy.length;
  if (count > limits.maxObjectsInSet) {
    throw new MethodError(
      "requestTooLarge",
      `${count} operations exceed maxObjectsInSet (${limits.maxObjectsInSet})`,
    );
  }
  const oldState = await state();
  if (ifInState !== undefined && ifInState !== oldState) {
    throw new MethodError(
      "stateMismatch",
      `ifInState "${ifInState}" does not match the current state "${oldState}"`,
    );
  }
  const created: Record<string, JmapObject> = {};
  const notCreated: Record<string, SetError> = {};
  const updated: Record<string, JmapObject | null> = {};
  const notUpdated: Record<string, SetError> = {};
  const destroyed: string[] = [];
  const notDestroyed: Record<string, SetError> = {};

  for (const [creationId, object] of Object.entries(create)) {
    try {
      if (type.singleton) {
        throw setErrorOf("singleton", `${type.name} is a singleton; update "singleton" instead`);
      }
      if (!type.create) throw setErrorOf("forbidden", `${type.name} objects cannot be created`);
      if (object === null || typeof object !== "object" || Array.isArray(object)) {
        throw setErrorOf("invalidProperties", "The object to create must be a JSON object");
      }
      if ("id" in object) {
        throw setErrorOf("invalidProperties", '"id" is set by the server', { properties: ["id"] });
      }
      const result = await type.create(
        ctx,
        withDefaults(type, resolveObjectReferences(type, object as JmapObject, ctx), {}),
      );
      created[creationId] = result;
      ctx.createdIds.set(creationId, String(result.id));
    } catch (error) {
      notCreated[creationId] = toSetError(error);
    }
  }
  for (const [rawId, patch] of Object.entries(update)) {
    const id = resolveCreationIds(rawId, ctx) as string;
    try {
      if (!type.update) throw setErrorOf("forbidden", `${type.name} objects cannot be changed`);
      if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
        throw setErrorOf("invalidPatch", "The patch must be a JSON object");
      }
      const { list } = await type.get(ctx, [id]);
      if (list.length === 0) throw setErrorOf("notFound", `${type.name} "${id}" does not exist`);
      const current = list[0];
      const resolved = resolveObjectReferences(type, patch as JmapObject, ctx);
      let patched: JmapObject;
      try {
        patched = applyPatch(current, resolved);
      } catch (error) {
        if (error instanceof PointerError) throw setErrorOf("invalidPatch", error.message);
        throw error;
      }
      const touched = [
        ...new Set(
          Object.keys(resolved).map((k) => k.split("/")[0].replaceAll("~1", "/").replaceAll("~0", "~")),
        ),
      ];
      if (touched.includes("id") && patched.id !== current.id) {
        throw setErrorOf("invalidProperties", '"id" cannot be changed', { properties: ["id"] });
      }
      // Properties written back unchanged (server-set ones included, RFC 8620 §5.3) are no change.
      const changes = withDefaults(
        type,
        Object.fromEntries(
          touched.filter((k) => JSON.stringify(patched[k]) !== JSON.stringify(current[k])).map((
            k,
          ) => [k, patched[k]]),
        ),
        current,
      );
      updated[id] = Object.keys(changes).length ? await type.update(ctx, id, changes) : null;
    } catch (error) {
      notUpdated[id] = toSetError(error);
    }
  }
  for (const rawId of destroy) {
    const id = resolveCreationIds(rawId, ctx) as string;
    try {
      if (type.singleton) {
        throw setErrorOf("singleton", `${type.name} is a singleton and cannot be destroyed`);
      }
      if (!type.destroy) throw setErrorOf("forbidden", `${type.name} objects cannot be destroyed`);
      await type.destroy(ctx, id);
      destroyed.push(id);
    } catch (error) {
      notDestroyed[id] = toSetError(error);
    }
  }
  return {
    accountId,
    oldState,
    newState: await state(),
    created: orNull(created),
    updated: orNull(updated),
    destroyed: destroyed.length ? destroyed : null,
    notCreated: orNull(notCreated),
    notUpdated: orNull(notUpdated),
    notDestroyed: orNull(notDestroyed),
  };
}

/** A top-level null resets a property with a default to that default (RFC 8620 §5.3). */
function withDefaults(type: DataType, object: JmapObject, current: JmapObject): JmapObject {
  const out: JmapObject = {};
  for (const [key, value] of Object.entries(object)) {
    if (value === null && key in type.defaults) {
      if (JSON.stringify(type.defaults[key]) !== JSON.stringify(current[key])) out[key] = type.defaults[key];
    } else out[key] = value;
  }
  return out;
}

function orNull<T>(map: Record<string, T>): Record<string, T> | null {
  return Object.keys(map).length ? map : null;
}

class SetFailure extends Error {
  constructor(readonly error: SetError) {
    super(error.description);
  }
}

function setErrorOf(type: string, description: string, extra: Record<string, unknown> = {}): SetFailure {
  return new SetFailure(setError(type, description, extra));
}

/** Maps a failure inside /set to its SetError; faults propagate as serverFail for the whole call. */
function toSetError(error: unknown): SetError {
  if (error instanceof SetFailure) return error.error;
  if (error instanceof InvalidInputError) {
    const properties = [...new Set(error.problems.map((p) => p.property))];
    return setError("invalidProperties", error.message, properties.length ? { properties } : {});
  }
  if (error instanceof NotFoundError) return setError("notFound", error.message);
  if (error instanceof ForbiddenError) return setError("forbidden", error.message);
  if (error instanceof ConflictError) {
    return error.kind === "inUse"
      ? setError("objectIsLinked", error.message, { linkedObjects: error.references })
      : setError("alreadyExists", error.message);
  }
  if (error instanceof MethodError) return setError(error.type, error.message);
  if (error instanceof DomainError) return setError("invalidProperties", error.message);
  throw error;
}

async function changes(
  type: DataType,
  deps: { changes: ChangeFeed; limits: StandardLimits },
  raw: Record<string, unknown>,
  ctx: MethodContext,
): Promise<JmapObject> {
  const args = new Args(raw, ["accountId", "sinceState", "maxChanges"], `${type.name}/changes`);
  const accountId = await type.checkAccount(ctx, args.raw("accountId"));
  const sinceState = args.optionalString("sinceState");
  if (sinceState === undefined) throw new MethodError("invalidArguments", '"sinceState" is required');
  const maxChanges = args.unsigned("maxChanges", deps.limits.maxChanges)!;
  if (maxChanges === 0) throw new MethodError("invalidArguments", '"maxChanges" must be greater than 0');
  const rows = await deps.changes.since(type.changeType, null, sinceState, {
    limit: 100_000,
    ownerId: type.changeOwner?.(ctx),
  });
  if (!rows) {
    throw new MethodError("cannotCalculateChanges", `State "${sinceState}" is not a state of ${type.name}`);
  }
  const summary = summarize(rows, maxChanges, Number(sinceState));
  const newState = summary.hasMore
    ? String(summary.lastPosition)
    : await deps.changes.state(type.changeType, null);
  const wire = (ids: number[]) => ids.map((id) => type.wireId(id));
  return {
    accountId,
    oldState: sinceState,
    newState,
    hasMoreChanges: summary.hasMore,
    created: wire(summary.created),
    updated: wire(summary.updated),
    destroyed: wire(summary.destroyed),
  };
}

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

async function query(
  type: DataType,
  state: () => Promise<string>,
  limits: StandardLimits,
  raw: Record<string, unknown>,
  ctx: MethodContext,
): Promise<JmapObject> {
  const known = [
    "accountId",
    "filter",
    "sort",
    "position",
    "anchor",
    "anchorOffset",
    "limit",
    "calculateTotal",
  ];
  const args = new Args(raw, known, `${type.name}/query`);
  const accountId = await type.checkAccount(ctx, args.raw("accountId"));
  const window = readWindow(type, args);
  if (window.anchor !== null && raw.position !== undefined && raw.position !== 0) {
    // RFC 8620 §5.5: position is ignored when an anchor is given; say so rather than guess.
    window.position = 0;
  }
  const queryState = await state();
  const outcome = type.query
    ? await type.query(ctx, window)
    : windowIds(await allIds(type, ctx, window), window, limits.maxQueryLimit);
  const result: JmapObject = {
    accountId,
    queryState,
    canCalculateChanges: true,
    position: outcome.position,
    ids: outcome.ids,
  };
  if (outcome.total !== undefined) result.total = outcome.total;
  if (window.limit !== null && window.limit > limits.maxQueryLimit) result.limit = limits.maxQueryLimit;
  return result;
}

async function queryChanges(
  type: DataType,
  deps: { changes: ChangeFeed; limits: StandardLimits },
  raw: Record<string, unknown>,
  ctx: MethodContext,
): Promise<JmapObject> {
  const known = ["accountId", "filter", "sort", "sinceQueryState", "maxChanges", "upToId", "calculateTotal"];
  const args = new Args(raw, known, `${type.name}/queryChanges`);
  const accountId = await type.checkAccount(ctx, args.raw("accountId"));
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
  const rows = await deps.changes.since(type.changeType, null, since, {
    limit: 100_000,
    ownerId: type.changeOwner?.(ctx),
  });
  if (!rows) {
    throw new MethodError("cannotCalculateChanges", `Query state "${since}" is not a state of ${type.name}`);
  }
  const newQueryState = await deps.changes.state(type.changeType, null);
  const touched = new Set(rows.map((r) => type.wireId(r.objectId)));
  const ids = type.query
    ? (await type.query(ctx, { ...window, limit: Number.MAX_SAFE_INTEGER })).ids
    : await allIds(type, ctx, window);
  // Every touched object is removed and, if it is in the results now, added at its index: clients
  // then place it correctly whatever its old position was (RFC 8620 §5.6).
  const removed = [...touched];
  const added = ids.flatMap((id, index) => touched.has(id) ? [{ id, index }] : []);
  if (maxChanges !== undefined && removed.length + added.length > maxChanges) {
    throw new MethodError(
      "tooManyChanges",
      `${removed.length + added.length} changes exceed maxChanges (${maxChanges})`,
    );
  }
  return { accountId, oldQueryState: since, newQueryState, total: ids.length, removed, added };
}

/** Decodes a wire id or returns undefined. */
export function numericId(id: string): number | undefined {
  return decodeId(id);
}
