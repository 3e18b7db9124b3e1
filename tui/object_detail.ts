/**
 * One object edited through the form generated from its schema type (every writable, mutable field,
 * each change saved at once) with a confirmed delete: the detail view of OAuth clients, API keys and
 * app passwords.
 */
import type { WireObject } from "../src/directory/mod.ts";
import { type HelpTopic, showHelp } from "./help.ts";
import { formFields, type SchemaType } from "./schema_form.ts";
import { editField, settingsChoices } from "./settings.ts";
import { isKey, type Ui } from "./ui.ts";

const DELETE = "\0delete";

/** What the detail view of one kind of object shows. */
export interface DetailView {
  /** The CLI type path (`oauth-client`, `api-key`…). */
  typePath: string;
  /** The screen's place in the header, before the object's title. */
  path: string[];
  help: HelpTopic;
  /** The object's title in the header. */
  title(object: WireObject): string;
  /** Lines above the fields. */
  summary(object: WireObject): string[];
  /** What deleting removes, in words (the confirmation and the choice's description). */
  deleteNote: string;
}

/** Reads the schema type named `name` (the server's in remote mode). */
export async function schemaType(ui: Ui, name: string): Promise<SchemaType> {
  const types = await ui.backend.client.schema() as unknown as SchemaType[];
  const type = types.find((t) => t.name === name);
  if (!type) throw new Error(`The schema has no ${name} type.`);
  return type;
}

/** The detail view; returns when the user goes back or the object was deleted. */
export async function objectDetail(ui: Ui, type: SchemaType, view: DetailView, id: string): Promise<void> {
  const { client } = ui.backend;
  const editable = { ...type, fields: type.fields.filter((f) => !f.immutable) };
  let last: string | undefined;
  for (;;) {
    let current: WireObject;
    try {
      current = await client.get(view.typePath, id);
    } catch (error) {
      await ui.showError([...view.path, id], error);
      return;
    }
    const path = [...view.path, view.title(current)];
    ui.draw(path, [...view.summary(current), "Enter edits a field; each change is saved at once."]);
    const choice = await ui.prompts.menu("Field", [
      ...settingsChoices(editable, current, ui.columns),
      { value: DELETE, name: "Delete…", description: view.deleteNote },
    ], { default: last, pageSize: () => ui.pageSize(6) });
    if (isKey(choice)) {
      if (choice.name === "back") return;
      if (choice.name === "help") await showHelp(ui, view.help);
      continue;
    }
    last = choice;
    if (choice === DELETE) {
      if (await confirmDelete(ui, view, current)) return;
      continue;
    }
    const form = formFields(editable).find((f) => f.field.name === choice)!;
    await editField(ui, {
      path: [...path, choice],
      typePath: view.typePath,
      id,
      form,
      current: current[choice],
    });
  }
}

/** Asks, then deletes; true when the object is gone. */
async function confirmDelete(ui: Ui, view: DetailView, current: WireObject): Promise<boolean> {
  const title = view.title(current);
  const path = [...view.path, title, "Delete"];
  ui.draw(path, [`Delete ${title}?`, view.deleteNote], [["y", "yes"], ["n/enter", "no"], ["esc", "cancel"]]);
  const sure = await ui.prompts.yesNo(`Delete ${title}?`, false);
  if (sure !== true) return false;
  try {
    await ui.backend.client.delete(view.typePath, String(current.id));
  } catch (error) {
    await ui.showError(path, error);
    return false;
  }
  await ui.showDone(path, [`Deleted ${title}.`]);
  return true;
}
