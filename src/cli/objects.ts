/** The object verbs, on a server (--url) or the local database: get, query, create, update, delete, describe. */
import { resolveObjectType, type WireObject } from "../directory/mod.ts";
import { InvalidInputError } from "../model/errors.ts";
import type { FieldSpec } from "../model/objects/mod.ts";
import { filterConditions } from "../jmap/mod.ts";
import type { ObjectClient } from "./client.ts";
import { type ConnectOptions, withClient } from "./connect.ts";
import { resolveRef, resolveRefs } from "./names.ts";
import { output, UsageError, wrap } from "./io.ts";
import { complain, say, streams } from "./streams.ts";

/** Options of the object verbs. */
export interface ObjectOptions extends ConnectOptions {
  field?: string[];
  where?: string[];
  fields?: string;
  ids?: string;
}

/**
 * Parses `--field name=value` pairs for a type: a value starting with `{` or `[` is JSON; otherwise it
 * is converted by the field's declared type (numbers, booleans, null for optional fields). A name may
 * be a JSON pointer into the object (`quotas/maxDiskQuota=5`), for updates.
 */
export function parseFields(typePath: string, pairs: string[]): Record<string, unknown> {
  const { spec } = resolveObjectType(typePath);
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw new UsageError(`--field "${pair}" must be name=value`);
    const name = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    out[name] = name.includes("/") ? convertNested(name, raw) : convert(name, raw, spec.fields[name]);
  }
  return out;
}

function parseJson(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new UsageError(`--field ${name}: value is not valid JSON (${(error as Error).message})`);
  }
}

function convert(name: string, raw: string, field: FieldSpec | undefined): unknown {
  const trimmed = raw.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) return parseJson(name, raw);
  if (!field) return raw;
  if (raw === "null" && field.type.endsWith("?")) return null;
  if (field.type === "Boolean") {
    if (raw === "true" || raw === "false") return raw === "true";
    throw new UsageError(`--field ${name}: expected true or false, got "${raw}"`);
  }
  // A Duration is seconds, or (where its declaration allows) text such as "30d".
  if (field.type === "Duration" && /^\s*\d+\s*[smhd]\s*$/i.test(raw)) return raw.trim();
  if (["UnsignedInt", "Duration", "Number"].includes(field.type)) {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n)) {
      throw new UsageError(`--field ${name}: expected a number, got "${raw}"`);
    }
    return n;
  }
  return raw;
}

/** Inside an object the declared type is unknown: JSON literals (numbers, true, null, objects) or a string. */
function convertNested(name: string, raw: string): unknown {
  const trimmed = raw.trim();
  if (/^[{[]/.test(trimmed)) return parseJson(name, raw);
  if (/^(true|false|null|-?\d+(\.\d+)?)$/.test(trimmed)) return JSON.parse(trimmed);
  return raw;
}

/**
 * Parses `--where name=value` pairs into a JMAP filter of the type's query (the same conditions over
 * --url and locally); a condition the type does not have is a usage error naming the ones it has.
 */
export function parseWhere(typePath: string, pairs: string[] = []): Record<string, unknown> {
  const where: Record<string, unknown> = {};
  const { spec } = resolveObjectType(typePath);
  const known = filterConditions(spec.name);
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw new UsageError(`--where "${pair}" must be name=value`);
    const name = pair.slice(0, eq);
    if (!known.includes(name)) {
      throw new UsageError(
        known.length
          ? `--where ${name}: ${spec.name} has no filter "${name}"; filters: ${known.join(", ")}`
          : `--where ${name}: ${spec.name} has no filters`,
      );
    }
    const raw = pair.slice(eq + 1);
    const field = spec.fields[name];
    // Filters compare single values: a JSON object or list never matches, so it is refused here.
    if (/^\s*[{[]/.test(raw)) throw new UsageError(`--where ${name}: expected a single value, got "${raw}"`);
    where[name] = field?.type === "Boolean" || name === "enabled"
      ? convert(name, raw, { ...field, type: "Boolean" } as FieldSpec)
      : raw;
  }
  return where;
}

/** The type a CLI type path names; an unknown one is a usage error (exit 2) listing the known ones. */
function checkType(typePath: string): ReturnType<typeof resolveObjectType> {
  try {
    return resolveObjectType(typePath);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(error.message);
    throw error;
  }
}

/** Runs `body` on the resolved id of `typed`; an error names what the user typed, not the id. */
async function onObject<T>(
  client: ObjectClient,
  typePath: string,
  typed: string,
  body: (id: string) => Promise<T>,
): Promise<T> {
  const id = await resolveRef(client, typePath, typed);
  try {
    return await body(id);
  } catch (error) {
    if (id !== typed && error instanceof Error) {
      error.message = error.message.replaceAll(`"${id}"`, `"${typed}"`);
    }
    throw error;
  }
}

function listColumns(typePath: string): string[] {
  const { spec } = resolveObjectType(typePath);
  return Object.entries(spec.fields).filter(([, f]) => f.column).map(([name]) => name);
}

/** `postern get TYPE ID` */
export async function getCommand(type: string, id: string, options: ObjectOptions): Promise<void> {
  checkType(type);
  output(
    await withClient(options, (client) => onObject(client, type, id, (ref) => client.get(type, ref))),
    options,
  );
}

/** `postern query TYPE [--where f=v] [--fields a,b]` */
export async function queryCommand(type: string, options: ObjectOptions): Promise<void> {
  checkType(type);
  const where = parseWhere(type, options.where);
  const fields = options.fields?.split(",").map((f) => f.trim()).filter(Boolean);
  const objects = await withClient(
    options,
    async (client) => client.query(type, await resolveRefs(client, type, where), fields),
  );
  const columns = fields
    ? ["id", ...fields.filter((f) => f !== "id")]
    : options.json
    ? undefined
    : listColumns(type);
  output(objects, { ...options, columns });
}

/** `postern create TYPE --field name=value…` */
export async function createCommand(type: string, options: ObjectOptions): Promise<void> {
  checkType(type);
  const input = parseFields(type, options.field ?? []);
  const created = await withClient(
    options,
    async (client) => client.create(type, await resolveRefs(client, type, input)),
  );
  output(created, options);
  if (!options.json && typeof created.secret === "string") {
    complain("The secret is shown only this once; store it now.");
  }
}

/** `postern update TYPE ID --field name=value…` (names may be JSON pointers: quotas/maxDiskQuota=5) */
export async function updateCommand(type: string, id: string, options: ObjectOptions): Promise<void> {
  checkType(type);
  const patch = parseFields(type, options.field ?? []);
  if (Object.keys(patch).length === 0) throw new UsageError("update needs at least one --field name=value");
  output(
    await withClient(options, (client) =>
      onObject(
        client,
        type,
        id,
        async (ref) => client.update(type, ref, await resolveRefs(client, type, patch)),
      )),
    options,
  );
}

/** `postern delete TYPE --ids a,b` (or a single id as an argument) */
export async function deleteCommand(
  type: string,
  id: string | undefined,
  options: ObjectOptions,
): Promise<void> {
  const ids = [...(id ? [id] : []), ...(options.ids?.split(",").map((s) => s.trim()).filter(Boolean) ?? [])];
  checkType(type);
  if (ids.length === 0) throw new UsageError("delete needs an id or --ids a,b,c");
  const deleted = await withClient(options, async (client) => {
    const out: WireObject[] = [];
    for (const one of ids) out.push(await onObject(client, type, one, (ref) => client.delete(type, ref)));
    return out;
  });
  if (options.json) output(deleted, options);
  else {
    for (const d of deleted) {
      const removed = d.removed
        ? ` (also removed: ${formatRemoved(d.removed as Record<string, number>)})`
        : "";
      say(
        `Deleted ${resolveObjectType(type).spec.name} ${d.id}${d.name ? ` "${d.name}"` : ""}${removed}`,
      );
    }
  }
}

function formatRemoved(removed: Record<string, number>): string {
  const parts = Object.entries(removed).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
  return parts.length ? parts.join(", ") : "nothing else";
}

/** `postern describe [TYPE]`: from the server's /api/schema with --url, else from the declarations. */
export async function describeCommand(type: string | undefined, options: ObjectOptions): Promise<void> {
  const schema = options.url ?? streams().env.POSTERN_URL
    ? await withClient(options, (client) => client.schema())
    : await (await import("./client.ts")).localSchema();
  if (!type) {
    output(schema.map((t) => ({ name: t.name, description: t.description })), options);
    return;
  }
  // Actions are no object type of their own: they are described by the schema alone.
  const name = type.toLowerCase() === "action" ? "Action" : checkType(type).spec.name;
  const described = schema.find((t) => t.name === name);
  if (!described) throw new UsageError(`The server's schema has no type ${name}`);
  if (options.json) {
    output(described, options);
    return;
  }
  const variants = described.variants as string[] | undefined;
  say(
    wrap(`${name}${variants ? ` (variants: ${variants.join(", ")})` : ""}: ${described.description}`),
  );
  output(
    (described.fields as Record<string, unknown>[]).map((f) => ({
      field: f.name,
      type: f.type,
      flags: [
        f.required && "required",
        f.serverSet && "server-set",
        f.writeOnly && "write-only",
        f.immutable && "immutable",
      ].filter(Boolean).join(" "),
      default: f.default === undefined ? "" : JSON.stringify(f.default),
      variants: f.variants ? (f.variants as string[]).join(",") : "",
      description: f.description,
    })),
    options,
  );
}
