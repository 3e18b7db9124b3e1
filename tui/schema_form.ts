/**
 * Forms generated from the schema document (`/api/schema`, or the declarations in local mode): each
 * field gets the prompt its type calls for, so a field added to a declaration appears with no UI code.
 */
import { durationSeconds } from "../src/model/objects/mod.ts";
import { refusedFields } from "./form.ts";
import { formatSeconds, showValue, wireList } from "./format.ts";
import { isKey, type Ui } from "./ui.ts";

/** A field as the schema document describes it. */
export interface SchemaField {
  name: string;
  type: string;
  description?: string;
  required?: boolean;
  default?: unknown;
  serverSet?: boolean;
  writeOnly?: boolean;
  immutable?: boolean;
  enum?: readonly string[];
  variants?: readonly string[];
}

/** An object type as the schema document describes it. */
export interface SchemaType {
  name: string;
  description?: string;
  singleton?: boolean;
  variants?: readonly string[];
  fields: SchemaField[];
}

/** The prompt a field gets. */
export type PromptKind =
  | "confirm"
  | "number"
  | "select"
  | "checkbox"
  | "duration"
  | "secretKey"
  | "list"
  | "text"
  | "json";

/** A field of a form: what to ask and how. */
export interface FormField {
  field: SchemaField;
  kind: PromptKind;
  /** The type ends in `?`: the value may be cleared (null). */
  nullable: boolean;
}

const NUMBER_TYPES = new Set(["UnsignedInt", "Int", "Integer", "Number"]);
const TEXT_TYPES = new Set(["String", "Uri", "UTCDate", "Id"]);

/** The prompt for a field's declared type: Boolean → confirm, UnsignedInt → number, enum → select… */
export function promptKind(field: SchemaField): PromptKind {
  const type = field.type.replace(/\?$/, "");
  if (type === "Boolean") return "confirm";
  if (type === "SecretKey") return "secretKey";
  if (type.startsWith("List<")) return field.enum ? "checkbox" : "list";
  if (field.enum) return "select";
  if (NUMBER_TYPES.has(type)) return "number";
  if (type === "Duration") return "duration";
  if (TEXT_TYPES.has(type) || type.startsWith("Id<")) return "text";
  // A type this UI has never heard of is edited as JSON (or plain text), and still saved.
  return "json";
}

/** The fields a form edits: every field the client may write, in declaration order. */
export function formFields(type: SchemaType): FormField[] {
  return type.fields
    .filter((f) => !f.serverSet && f.name !== "id" && f.name !== "@type")
    .map((field) => ({ field, kind: promptKind(field), nullable: field.type.endsWith("?") }));
}

/**
 * A field's label in words: the schema's description up to its first clause ("Exact redirect URIs"
 * for `redirectUris`), or the name split into words when the schema gives no description.
 */
export function fieldLabel(field: SchemaField): string {
  const clause = field.description?.replace(/\s*\([^)]*\)/g, "").split(/[;:] |\. | — /)[0].trim();
  if (clause) return clause;
  const words = field.name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A value as the form shows it (durations in seconds also in words). */
export function formValue(form: FormField, value: unknown): string {
  if (form.kind === "duration" && typeof value === "number") return `${value} (${formatSeconds(value)})`;
  return showValue(value);
}

/** The answer of a field prompt; undefined when the user cancelled. */
export type FieldAnswer = { value: unknown } | undefined;

/** Asks for a new value of one field, starting from the current one. */
export async function askField(ui: Ui, form: FormField, current: unknown): Promise<FieldAnswer> {
  const { field, kind, nullable } = form;
  const { prompts } = ui;
  const start = current ?? field.default;
  const message = `${fieldLabel(field)}${
    field.default === undefined ? "" : ` (default ${formValue(form, field.default)})`
  }`;
  const done = <T>(answer: T | { name: string }): FieldAnswer =>
    isKey(answer) ? undefined : { value: answer };
  switch (kind) {
    case "confirm":
      return done(await prompts.yesNo(message, start === true));
    case "number": {
      const answer = await prompts.number(message, {
        default: typeof start === "number" ? start : undefined,
        min: field.type.startsWith("Unsigned") ? 0 : undefined,
        required: !nullable,
      });
      return isKey(answer) ? undefined : { value: answer ?? null };
    }
    case "select": {
      const choices = (field.enum ?? []).map((v) => ({ value: v as string | null, name: v }));
      if (nullable) choices.push({ value: null, name: "(none)" });
      return done(await prompts.menu(message, choices, { default: start as string | null, help: false }));
    }
    case "checkbox": {
      const chosen = wireList(start);
      return done(
        await prompts.several(
          `${message} (space toggles, enter saves)`,
          (field.enum ?? []).map((v) => ({ value: v, name: v, checked: chosen.includes(v) })),
        ),
      );
    }
    case "duration": {
      const answer = await prompts.text(`${message}, e.g. 90s, 15m, 1h, 30d`, {
        default: start === null || start === undefined ? "" : String(start),
        editable: true,
        validate: (v) =>
          (nullable && !v.trim()) || !Number.isNaN(durationSeconds(/^\s*\d+\s*$/.test(v) ? Number(v) : v)) ||
          "a whole number of seconds, or a duration such as 90s, 15m, 1h or 30d",
      });
      if (isKey(answer)) return undefined;
      if (!answer.trim()) return { value: null };
      // A duration stored as seconds stays a number; one stored as text keeps the text typed.
      const seconds = durationSeconds(/^\s*\d+\s*$/.test(answer) ? Number(answer) : answer);
      return { value: typeof start === "number" || /^\s*\d+\s*$/.test(answer) ? seconds : answer.trim() };
    }
    case "secretKey":
      return await askSecretKey(ui, form, current);
    case "list": {
      const answer = await prompts.text(`${message} (comma-separated)`, {
        default: wireList(start).join(", "),
        editable: true,
      });
      return isKey(answer) ? undefined : { value: answer.split(",").map((s) => s.trim()).filter(Boolean) };
    }
    case "text": {
      const answer = await prompts.text(`${message}${nullable ? " (empty clears it)" : ""}`, {
        default: start === null || start === undefined ? "" : String(start),
        editable: true,
      });
      if (isKey(answer)) return undefined;
      return { value: nullable && answer === "" ? null : answer };
    }
    case "json": {
      const answer = await prompts.text(`${message} (JSON, or plain text)`, {
        default: start === undefined ? "" : JSON.stringify(start),
        editable: true,
      });
      if (isKey(answer)) return undefined;
      try {
        return { value: JSON.parse(answer) };
      } catch {
        return { value: answer };
      }
    }
  }
}

/**
 * Asks the fields of a create form, starting from `answers`; after a refusal (`error`) that names some
 * of them, only those are asked again and the other answers kept. An empty answer leaves the field
 * out. Undefined when the user cancelled.
 */
export async function askFields(
  ui: Ui,
  forms: readonly FormField[],
  options: { answers: Record<string, unknown>; error?: unknown },
): Promise<Record<string, unknown> | undefined> {
  const refused = refusedFields(options.error);
  const again = forms.filter((form) => refused.has(form.field.name));
  const answers = { ...options.answers };
  for (const form of again.length ? again : forms) {
    const name = form.field.name;
    const answer = await askField(ui, form, options.answers[name]);
    if (!answer) return undefined;
    if (answer.value === "" || answer.value === null) delete answers[name];
    else answers[name] = answer.value;
  }
  return answers;
}

/** Whether a refusal names one of `forms`' fields (so the form asks that field alone again). */
export function refusesField(forms: readonly FormField[], error: unknown): boolean {
  const refused = refusedFields(error);
  return forms.some((form) => refused.has(form.field.name));
}

/** A SecretKey: kept, a value typed or generated, an environment variable, a file, or none. */
async function askSecretKey(ui: Ui, form: FormField, current: unknown): Promise<FieldAnswer> {
  const { prompts } = ui;
  const kinds = [
    ...(current ? [{ value: "keep", name: `Keep the current one (${showValue(current)})` }] : []),
    { value: "generate", name: "Generate a new random value (never shown)" },
    { value: "Value", name: "A value typed here" },
    { value: "EnvironmentVariable", name: "An environment variable of the server" },
    { value: "File", name: "A file on the server" },
    ...(form.nullable ? [{ value: "none", name: "None" }] : []),
  ];
  const kind = await prompts.menu(`${fieldLabel(form.field)}: where the secret comes from`, kinds, {
    help: false,
  });
  if (isKey(kind) || kind === "keep") return undefined;
  if (kind === "none") return { value: null };
  if (kind === "generate") {
    const bytes = crypto.getRandomValues(new Uint8Array(64));
    const secret = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
      /=+$/,
      "",
    );
    return { value: { "@type": "Value", secret } };
  }
  if (kind === "Value") {
    const secret = await prompts.secret("Secret value");
    return isKey(secret) ? undefined : { value: { "@type": "Value", secret } };
  }
  const property = kind === "File" ? "filePath" : "variableName";
  const answer = await prompts.text(kind === "File" ? "File path" : "Variable name", {
    default: (current as Record<string, unknown> | null)?.[property] as string | undefined,
  });
  return isKey(answer) ? undefined : { value: { "@type": kind, [property]: answer } };
}
