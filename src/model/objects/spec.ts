/**
 * Object declarations: each management type is declared once here and that declaration drives
 * validation (with errors naming the property), `describe`, `/api/schema` and the TUI's forms.
 */
import { z } from "zod";
import type { PropertyProblem } from "../errors.ts";

/** One field of an object type. */
export interface FieldSpec {
  /** Validates a value the client sent. */
  schema: z.ZodType;
  /** Type name shown by `describe` and `/api/schema`. */
  type: string;
  description: string;
  required?: boolean;
  default?: unknown;
  /** Set by the server; a client sending it gets an error. */
  serverSet?: boolean;
  /** Accepted on write, never returned in clear. */
  writeOnly?: boolean;
  /** Fixed after creation. */
  immutable?: boolean;
  enum?: readonly string[];
  /** Shown as a column in list views. */
  column?: boolean;
  /** Only in these variants (all when absent). */
  variants?: readonly string[];
}

/** A management object type such as `Account` or `Domain`. */
export interface ObjectSpec {
  name: string;
  description: string;
  /** Variants selected by `@type` (e.g. User, Group); absent for single-form types. */
  variants?: readonly string[];
  /** A singleton has the one id `singleton`. */
  singleton?: boolean;
  /** Made by the server's own flows: clients read and destroy it, never create or update it. */
  readOnly?: boolean;
  fields: Record<string, FieldSpec>;
}

/**
 * A list on the wire, as Stalwart writes them: an object keyed by index (`{"0": x, "1": y}`).
 * A plain array is accepted too; the result is always an array in index order.
 */
export function keyedList<T extends z.ZodType>(item: T, max = 100) {
  // zod drops a "__proto__" key from a record without a word (the list would silently lose it):
  // refuse it like any other key that is not an index.
  return z.unknown().refine(
    (value) => value === null || typeof value !== "object" || !Object.hasOwn(value, "__proto__"),
    'keys must be list indexes such as "0"',
  ).pipe(listOf(item, max));
}

function listOf<T extends z.ZodType>(item: T, max: number) {
  return z.union([
    z.array(item).max(max),
    z.record(z.string().regex(/^\d{1,4}$/, 'keys must be list indexes such as "0"'), item),
  ]).transform((value) =>
    Array.isArray(value)
      ? value as z.output<T>[]
      : Object.entries(value).sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => v as z.output<T>)
  ).refine((list) => list.length <= max, `at most ${max} entries`);
}

/** Writes a list in the wire's keyed-object form. */
export function toKeyedList<T>(list: readonly T[]): Record<string, T> {
  return Object.fromEntries(list.map((v, i) => [String(i), v]));
}

/** The outcome of validating client input against an object type. */
export type Validation =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; problems: PropertyProblem[] };

/**
 * Validates a create (`mode: "create"`) or an update of the given variant: unknown, server-set and
 * (on update) immutable properties are refused by name; each value is checked by its field schema.
 */
export function validateObject(
  spec: ObjectSpec,
  input: unknown,
  options: { mode: "create" | "update"; variant?: string },
): Validation {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, problems: [{ property: "", message: `${spec.name} must be a JSON object` }] };
  }
  const problems: PropertyProblem[] = [];
  const value: Record<string, unknown> = {};
  for (const [property, raw] of Object.entries(input)) {
    if (property === "@type") continue;
    // Own properties only: "constructor" or "toString" must not find Object.prototype's.
    const field = Object.hasOwn(spec.fields, property) ? spec.fields[property] : undefined;
    if (!field || (field.variants && options.variant && !field.variants.includes(options.variant))) {
      problems.push({
        property,
        message: `Unknown property "${property}" for ${label(spec, options.variant)}`,
      });
      continue;
    }
    if (field.serverSet) {
      problems.push({ property, message: `"${property}" is set by the server and cannot be written` });
      continue;
    }
    if (field.immutable && options.mode === "update") {
      problems.push({ property, message: `"${property}" cannot be changed after creation` });
      continue;
    }
    const parsed = field.schema.safeParse(raw);
    if (parsed.success) value[property] = parsed.data;
    else {problems.push({
        property,
        message: `Invalid "${property}"${quoted(raw)}: ${describeIssues(parsed.error)}`,
      });}
  }
  if (options.mode === "create") {
    for (const [property, field] of Object.entries(spec.fields)) {
      if (field.variants && options.variant && !field.variants.includes(options.variant)) continue;
      if (
        field.required && !Object.hasOwn(value, property) && !problems.some((p) => p.property === property)
      ) {
        problems.push({ property, message: `"${property}" is required` });
      }
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, value };
}

/** The offending value, quoted, when it is short enough to help rather than flood. */
function quoted(raw: unknown): string {
  if (typeof raw === "string") return raw.length <= 80 ? ` ("${raw}")` : ` (${raw.length} characters)`;
  if (typeof raw === "number" || typeof raw === "boolean" || raw === null) return ` (${raw})`;
  return "";
}

function label(spec: ObjectSpec, variant?: string): string {
  return variant ? `${spec.name}/${variant}` : spec.name;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => {
    const path = issue.path.length ? `at ${issue.path.join(".")}: ` : "";
    return path + issue.message;
  }).join("; ");
}

/** A JSON description of one field, for `describe` and `/api/schema`. */
export function describeField(name: string, field: FieldSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { name, type: field.type, description: field.description };
  if (field.required) out.required = true;
  if (field.default !== undefined) out.default = field.default;
  if (field.serverSet) out.serverSet = true;
  if (field.writeOnly) out.writeOnly = true;
  if (field.immutable) out.immutable = true;
  if (field.enum) out.enum = field.enum;
  if (field.column) out.column = true;
  if (field.variants) out.variants = field.variants;
  return out;
}

/** A JSON description of an object type. */
export function describeObject(spec: ObjectSpec): Record<string, unknown> {
  return {
    name: spec.name,
    description: spec.description,
    ...(spec.variants ? { variants: spec.variants } : {}),
    ...(spec.singleton ? { singleton: true } : {}),
    ...(spec.readOnly ? { readOnly: true } : {}),
    fields: Object.entries(spec.fields).map(([name, field]) => describeField(name, field)),
  };
}
