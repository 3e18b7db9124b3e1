/**
 * The settings screen: every singleton of the schema, each edited through the form generated from
 * its fields. A change is saved at once; a refused value is shown with the field's own message.
 */
import type { WireObject } from "../src/directory/mod.ts";
import { HELP, showHelp } from "./help.ts";
import {
  askField,
  fieldLabel,
  type FormField,
  formFields,
  formValue,
  type SchemaType,
} from "./schema_form.ts";
import type { Choice } from "./terminal.ts";
import { fieldError, isKey, type Ui } from "./ui.ts";

/** The settings objects (singletons) of the schema, then the form of the one picked. */
export async function settingsScreen(ui: Ui): Promise<void> {
  const path = ["Settings"];
  ui.draw(path, ["Loading…"]);
  let singletons: SchemaType[];
  try {
    singletons = (await ui.backend.client.schema() as unknown as SchemaType[]).filter((t) => t.singleton);
  } catch (error) {
    await ui.showError(path, error);
    return;
  }
  let last: string | undefined;
  for (;;) {
    ui.draw(path, ["Settings objects, from the schema:"]);
    const choice = await ui.prompts.menu(
      "Edit",
      singletons.map((t) => ({ value: t.name, name: t.name, description: t.description })),
      { default: last, pageSize: () => ui.pageSize() },
    );
    if (isKey(choice)) {
      if (choice.name === "back") return;
      if (choice.name === "help") await showHelp(ui, HELP.settings);
      continue;
    }
    last = choice;
    await settingsForm(ui, singletons.find((t) => t.name === choice)!);
  }
}

/** The longest label the menu of a form shows before cutting it. */
const LABEL_WIDTH = 34;

/**
 * The menu of a form: one choice per field, labelled in words, with its value and its default when
 * it differs; the property's name, type and whole description are shown under the menu.
 */
export function settingsChoices(type: SchemaType, current: WireObject, width = 80): Choice<string>[] {
  const fields = formFields(type);
  const labels = fields.map((form) => cut(fieldLabel(form.field), LABEL_WIDTH));
  const labelWidth = Math.max(...labels.map((label) => [...label].length));
  return fields.map((form, i) => {
    const { field } = form;
    const value = formValue(form, current[field.name]);
    // Compared as shown: a list reads back in its keyed wire form, equal to the default's array.
    const differs = field.default !== undefined && formValue(form, field.default) !== value;
    const line = `${labels[i].padEnd(labelWidth)}  ${value}${
      differs ? `  (default ${formValue(form, field.default)})` : ""
    }`;
    return {
      value: field.name,
      name: cut(line, width - 4),
      description: `${field.name} · ${field.type} · ${field.description ?? ""}`,
    };
  });
}

/** `text` cut to `width` characters, ending in "…" when cut. */
function cut(text: string, width: number): string {
  const chars = [...text];
  return chars.length > width ? chars.slice(0, width - 1).join("") + "…" : text;
}

/** The form of one settings object; returns when the user goes back. */
export async function settingsForm(ui: Ui, type: SchemaType): Promise<void> {
  const { client } = ui.backend;
  const typePath = type.name.toLowerCase();
  const path = ["Settings", type.name];
  let last: string | undefined;
  for (;;) {
    let current: WireObject;
    try {
      current = await client.get(typePath, "singleton");
    } catch (error) {
      await ui.showError(path, error);
      return;
    }
    ui.draw(path, [type.description ?? "", "Enter edits a field; each change is saved at once."]);
    const choice = await ui.prompts.menu("Field", settingsChoices(type, current, ui.columns), {
      default: last,
      pageSize: () => ui.pageSize(6),
    });
    if (isKey(choice)) {
      if (choice.name === "back") return;
      if (choice.name === "help") await showHelp(ui, HELP.settings);
      continue;
    }
    last = choice;
    const form = formFields(type).find((f) => f.field.name === choice)!;
    await editField(ui, {
      path: [...path, choice],
      typePath,
      id: "singleton",
      form,
      current: current[choice],
    });
  }
}

/** Asks for a field of object `id` until the server accepts the value or the user cancels. */
export async function editField(
  ui: Ui,
  edit: { path: string[]; typePath: string; id: string; form: FormField; current: unknown },
): Promise<void> {
  const { field } = edit.form;
  let problem: string | undefined;
  // After a refusal the prompt starts from the value typed (a secret is never shown back).
  let start = edit.current;
  for (;;) {
    ui.draw(edit.path, [
      `${field.type}${field.writeOnly ? " (write-only: never shown in clear)" : ""} · ${
        field.description ?? ""
      }`,
      `Now: ${formValue(edit.form, edit.current)}` +
      (field.default === undefined ? "" : ` · default: ${formValue(edit.form, field.default)}`),
      ...(problem ? ["", `Refused: ${problem}`] : []),
    ], [["enter", "save"], ["esc", "cancel"]]);
    const answer = await askField(ui, edit.form, start);
    if (!answer) return;
    try {
      await ui.backend.client.update(edit.typePath, edit.id, { [field.name]: answer.value });
      return;
    } catch (error) {
      problem = fieldError(error, field.name);
      if (edit.form.kind !== "secretKey") start = answer.value;
    }
  }
}
