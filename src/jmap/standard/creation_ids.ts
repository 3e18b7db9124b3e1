/** `#creationId` references inside a request (RFC 8620 §5.3). */
import type { MethodContext } from "../engine.ts";
import type { DataType, JmapObject } from "./data_type.ts";

/** Resolves `#creationId` references in the id-holding properties of an object or patch. */
export function resolveObjectReferences(type: DataType, object: JmapObject, ctx: MethodContext): JmapObject {
  return Object.fromEntries(
    Object.entries(object).map(([key, value]) => {
      const property = key.split("/")[0];
      return [key, type.idProperties.includes(property) ? resolveCreationIds(value, ctx) : value];
    }),
  );
}

/** Replaces `#creationId` strings by the ids created earlier in the request. */
export function resolveCreationIds(value: unknown, ctx: MethodContext): unknown {
  if (typeof value === "string" && value.startsWith("#")) return ctx.createdIds.get(value.slice(1)) ?? value;
  if (Array.isArray(value)) return value.map((v) => resolveCreationIds(v, ctx));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveCreationIds(v, ctx)]));
  }
  return value;
}
