/** The object verbs in local mode: get, query, create, update, delete, describe. */
import { describeObject, type FieldSpec, OBJECT_SPECS } from "../model/objects/mod.ts";
import { resolveObjectType, type WireObject } from "../directory/mod.ts";
import { configFrom, type GlobalOptions, output, UsageError } from "./io.ts";
import { withLocalServices } from "./local.ts";

/** Options of the object verbs. */
export interface ObjectOptions extends GlobalOptions {
  field?: string[];
  where?: string[];
  fields?: string;
  ids?: string;
}

/**
 * Parses `--field name=value` pairs for a type: a value starting with `{` or `[` is JSON; otherwise it
 * is converted by the field's declared type (numbers, booleans, null for optional fields).
 */
export function parseFields(typePath: string, pairs: string[]): Record<string, unknown> {
  const { spec } = resolveObjectType(typePath);
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw new UsageError(`--field "${pair}" must be name=value`);
    const name = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    out[name] = convert(name, raw, spec.fields[name]);
  }
  return out;
}

function convert(name: string, raw: string, field: FieldSpec | undefined): unknown {
  const trimmed = raw.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(raw);
    } catch (error) {
      throw new UsageError(`--field ${name}: value is not valid JSON (${(error as Error).message})`);
    }
  }
  if (!field) return raw;
  if (raw === "null" && field.type.endsWith("?")) return null;
  if (field.type === "Boolean") {
    if (raw === "true" || raw === "false") return raw === "true";
    throw new UsageError(`--field ${name}: expected true or false, got "${raw}"`);
  }
  if (["UnsignedInt", "Duration", "Number"].includes(field.type)) {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n)) {
      throw new UsageError(`--field ${name}: expected a number, got "${raw}"`);
    }
    return n;
  }
  return raw;
}

function parseWhere(pairs: string[] = []): Record<string, string> {
  const where: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw new UsageError(`--where "${pair}" must be name=value`);
    where[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return where;
}

function project(objects: WireObject[], fields?: string): { rows: WireObject[]; columns?: string[] } {
  if (!fields) return { rows: objects };
  const columns = fields.split(",").map((f) => f.trim()).filter(Boolean);
  return { rows: objects.map((o) => Object.fromEntries(columns.map((c) => [c, o[c]]))), columns };
}

function listColumns(typePath: string): string[] {
  const { spec } = resolveObjectType(typePath);
  return Object.entries(spec.fields).filter(([, f]) => f.column).map(([name]) => name);
}

/** `postern get TYPE ID` */
export async function getCommand(type: string, id: string, options: ObjectOptions): Promise<void> {
  const object = await withLocalServices(configFrom(options), (s) => s.objects.get(type, id, "system"));
  output(object, options);
}

/** `postern query TYPE [--where f=v] [--fields a,b]` */
export async function queryCommand(type: string, options: ObjectOptions): Promise<void> {
  const where = parseWhere(options.where);
  const objects = await withLocalServices(configFrom(options), (s) => s.objects.query(type, where, "system"));
  const { rows, columns } = project(objects, options.fields);
  output(rows, { ...options, columns: columns ?? (options.json ? undefined : listColumns(type)) });
}

/** `postern create TYPE --field name=value…` */
export async function createCommand(type: string, options: ObjectOptions): Promise<void> {
  const input = parseFields(type, options.field ?? []);
  const created = await withLocalServices(
    configFrom(options),
    (s) => s.objects.create(type, input, "system"),
  );
  output(created, options);
  if (!options.json && typeof created.secret === "string") {
    console.error("The secret is shown only this once; store it now.");
  }
}

/** `postern update TYPE ID --field name=value…` */
export async function updateCommand(type: string, id: string, options: ObjectOptions): Promise<void> {
  const patch = parseFields(type, options.field ?? []);
  if (Object.keys(patch).length === 0) throw new UsageError("update needs at least one --field name=value");
  const updated = await withLocalServices(
    configFrom(options),
    (s) => s.objects.update(type, id, patch, "system"),
  );
  output(updated, options);
}

/** `postern delete TYPE --ids a,b` (or a single id as an argument) */
export async function deleteCommand(
  type: string,
  id: string | undefined,
  options: ObjectOptions,
): Promise<void> {
  const ids = [...(id ? [id] : []), ...(options.ids?.split(",").map((s) => s.trim()).filter(Boolean) ?? [])];
  if (ids.length === 0) throw new UsageError("delete needs an id or --ids a,b,c");
  const deleted = await withLocalServices(configFrom(options), async (s) => {
    const out: WireObject[] = [];
    for (const one of ids) out.push(await s.objects.delete(type, one, "system"));
    return out;
  });
  if (options.json) output(deleted, options);
  else {
    for (const d of deleted) {
      const removed = d.removed
        ? ` (also removed: ${formatRemoved(d.removed as Record<string, number>)})`
        : "";
      console.log(
        `Deleted ${resolveObjectType(type).spec.name} ${d.id}${d.name ? ` "${d.name}"` : ""}${removed}`,
      );
    }
  }
}

function formatRemoved(removed: Record<string, number>): string {
  const parts = Object.entries(removed).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
  return parts.length ? parts.join(", ") : "nothing else";
}

/** `postern describe [TYPE]` */
export function describeCommand(type: string | undefined, options: ObjectOptions): Promise<void> {
  if (!type) {
    const all = Object.values(OBJECT_SPECS).map((s) => ({ name: s.name, description: s.description }));
    output(all, options);
    return Promise.resolve();
  }
  const { spec } = resolveObjectType(type);
  const described = describeObject(spec);
  if (options.json) output(described, options);
  else {
    console.log(
      `${spec.name}${spec.variants ? ` (variants: ${spec.variants.join(", ")})` : ""}: ${spec.description}`,
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
        ]
          .filter(Boolean).join(" "),
        default: f.default === undefined ? "" : JSON.stringify(f.default),
        variants: f.variants ? (f.variants as string[]).join(",") : "",
        description: f.description,
      })),
      options,
    );
  }
  return Promise.resolve();
}
