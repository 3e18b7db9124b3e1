/** The standard /set method. */
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  QuotaError,
  RuleError,
  UnavailableError,
} from "../../model/errors.ts";
import { encodeId } from "../../model/ids.ts";
import { applyPatch, PointerError } from "../../model/json_pointer.ts";
import { withoutUnchanged } from "../../model/unchanged.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError, setError } from "../errors.ts";
import type { SetError, SetErrorType } from "../types.ts";
import { Args } from "./args.ts";
import { resolveCreationIds, resolveObjectReferences } from "./creation_ids.ts";
import type { DataType, JmapObject } from "./data_type.ts";
import { currentState, type StandardEnvironment } from "./environment.ts";

/** Largest object or patch one /set accepts; management objects are far smaller. */
const MAX_OBJECT_BYTES = 256 * 1024;

/** `Foo/set` (RFC 8620 §5.3): creates, then updates, then destroys. */
export async function set(
  raw: Record<string, unknown>,
  ctx: MethodContext,
  env: StandardEnvironment,
): Promise<JmapObject> {
  const { type, limits } = env;
  const extra = type.setArguments ?? {};
  const known = ["accountId", "ifInState", "create", "update", "destroy", ...Object.keys(extra)];
  const args = new Args(raw, known, `${type.name}/set`);
  const accountId = await type.checkAccount(ctx, args.raw("accountId"));
  ctx.accountId = accountId;
  for (const [name, kind] of Object.entries(extra)) {
    if (raw[name] === undefined) continue;
    const actual = typeof raw[name];
    if (actual !== kind) throw new MethodError("invalidArguments", `"${name}" must be a ${kind}`);
    (ctx.arguments ??= {})[name] = raw[name];
  }
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
  const oldState = await currentState(env, accountId);
  if (ifInState !== undefined && ifInState !== oldState) {
    throw new MethodError(
      "stateMismatch",
      `ifInState "${ifInState}" does not match the current state "${oldState}"`,
    );
  }
  // Keyed by client-chosen creation ids and ids: no prototype for a "__proto__" or "constructor" to hit.
  const created: Record<string, JmapObject> = Object.create(null);
  const notCreated: Record<string, SetError> = Object.create(null);
  const updated: Record<string, JmapObject | null> = Object.create(null);
  const notUpdated: Record<string, SetError> = Object.create(null);
  const destroyed: string[] = [];
  const notDestroyed: Record<string, SetError> = Object.create(null);
  const done = () => Object.keys(created).length + Object.keys(updated).length + destroyed.length;

  for (const [creationId, object] of Object.entries(create)) {
    try {
      if (type.singleton) {
        throw setErrorOf("singleton", `${type.name} is a singleton; update "singleton" instead`);
      }
      if (!type.create) throw setErrorOf("forbidden", `${type.name} objects cannot be created`);
      if (object === null || typeof object !== "object" || Array.isArray(object)) {
        throw setErrorOf("invalidProperties", "The object to create must be a JSON object");
      }
      if (JSON.stringify(object).length > MAX_OBJECT_BYTES) {
        throw setErrorOf("tooLarge", `The object is larger than ${MAX_OBJECT_BYTES} bytes of JSON`);
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
      notCreated[creationId] = busyOrSetError(error, done());
    }
  }
  for (const [rawId, patch] of Object.entries(update)) {
    const id = resolveCreationIds(rawId, ctx) as string;
    try {
      if (!type.update) throw setErrorOf("forbidden", `${type.name} objects cannot be changed`);
      if (destroy.some((d) => resolveCreationIds(d, ctx) === id)) {
        throw setErrorOf("willDestroy", `${type.name} "${id}" is destroyed by the same request`);
      }
      if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
        throw setErrorOf("invalidPatch", "The patch must be a JSON object");
      }
      if (JSON.stringify(patch).length > MAX_OBJECT_BYTES) {
        throw setErrorOf("tooLarge", `The patch is larger than ${MAX_OBJECT_BYTES} bytes of JSON`);
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
      const written = Object.fromEntries(touched.map((k) => [k, patched[k]]));
      const changes = withDefaults(type, withoutUnchanged(written, current) as JmapObject, current);
      updated[id] = Object.keys(changes).length ? await type.update(ctx, id, changes) : null;
    } catch (error) {
      notUpdated[id] = busyOrSetError(error, done());
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
      notDestroyed[id] = busyOrSetError(error, done());
    }
  }
  return {
    accountId,
    oldState,
    newState: await currentState(env, accountId),
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
  const out: JmapObject = Object.create(null);
  for (const [key, value] of Object.entries(object)) {
    if (value === null && Object.hasOwn(type.defaults, key)) {
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

function setErrorOf(
  type: SetErrorType,
  description: string,
  extra: Record<string, unknown> = {},
): SetFailure {
  return new SetFailure(setError(type, description, extra));
}

/**
 * A busy database fails the whole call with `serverUnavailable` (RFC 8620 §3.6.2: retry later) while
 * nothing of it was written yet; once something was, the call must report it, so the rest get a
 * `serverUnavailable` SetError each and the client retries only those.
 */
export function busyOrSetError(error: unknown, written: number): SetError {
  if (!(error instanceof UnavailableError)) return toSetError(error);
  if (written === 0) throw error;
  return setError("serverUnavailable", error.message);
}

/** Maps a failure inside /set to its SetError; faults propagate as serverFail for the whole call. */
export function toSetError(error: unknown): SetError {
  if (error instanceof SetFailure) return error.error;
  if (error instanceof InvalidInputError) {
    const properties = [...new Set(error.problems.map((p) => p.property))];
    return setError("invalidProperties", error.message, properties.length ? { properties } : {});
  }
  if (error instanceof NotFoundError) return setError("notFound", error.message);
  if (error instanceof ForbiddenError) return setError("forbidden", error.message);
  if (error instanceof QuotaError) return setError("overQuota", error.message);
  if (error instanceof ConflictError) {
    return error.kind === "inUse"
      ? setError("objectIsLinked", error.message, { linkedObjects: error.references })
      // RFC 8620 §5.4: "An "existingId" property of type "Id" MUST be included on the SetError object
      // with the id of the existing record."
      : setError(
        "alreadyExists",
        error.message,
        error.existingId === undefined ? {} : {
          existingId: encodeId(error.existingId),
        },
      );
  }
  if (error instanceof MethodError) return setError(error.type, error.message);
  if (error instanceof RuleError) return setError(error.rule, error.message, error.extra);
  if (error instanceof DomainError) return setError("invalidProperties", error.message);
  throw error;
}
