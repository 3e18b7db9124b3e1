/**
 * The OAuth clients screen: list, create (a confidential client's secret shown once), edit every field
 * through the form generated from the schema, delete. Same object layer as `postern … oauth-client`.
 */
import type { WireObject } from "../src/directory/mod.ts";
import { askAndSave, FORM_KEYS } from "./form.ts";
import { showValue, wireList } from "./format.ts";
import { HELP, showHelp } from "./help.ts";
import { askField, formFields, type SchemaType } from "./schema_form.ts";
import { editField, settingsChoices } from "./settings.ts";
import { errorLines, isKey, tableLines, type Ui } from "./ui.ts";

const TYPE = "oauth-client";
const NEW = "\0new";
const DELETE = "\0delete";
/** Fields the create form asks, in this order; the rest keep their defaults and are edited later. */
const CREATE_FIELDS = ["name", "clientId", "redirectUris", "grantTypes", "scopes"];

/** The list of clients; enter opens one, `n` creates. */
export async function clientsScreen(ui: Ui): Promise<void> {
  const path = ["OAuth clients"];
  let type: SchemaType;
  try {
    type = await clientType(ui);
  } catch (error) {
    await ui.showError(path, error);
    return;
  }
  let cursor: string | undefined;
  for (;;) {
    ui.draw(path, ["Loading…"]);
    let clients: WireObject[];
    try {
      clients = await ui.backend.client.query(TYPE, {});
    } catch (error) {
      await ui.showError(path, error);
      return;
    }
    const [head, ...rows] = tableLines(
      ["NAME", "CLIENT ID", "TYPE", "GRANTS"],
      clients.map((c) => [
        String(c.name),
        String(c.clientId),
        String(c["@type"] ?? ""),
        wireList(c.grantTypes).join(" "),
      ]),
      ui.columns - 2,
    );
    ui.draw(path, [`${clients.length} client${clients.length === 1 ? "" : "s"}`]);
    const choice = await ui.prompts.menu(
      head,
      [
        { value: NEW, name: "+ New client…", description: "Register an application" },
        ...rows.map((name, i) => ({ value: String(clients[i].id), name })),
      ],
      { keys: [["n", "new"]], pageSize: ui.pageSize(), default: cursor },
    );
    if (isKey(choice)) {
      if (choice.name === "back") return;
      if (choice.name === "help") await showHelp(ui, HELP.clients);
      if (choice.name === "n") await createClient(ui, type);
      continue;
    }
    if (choice === NEW) await createClient(ui, type);
    else await clientDetail(ui, type, cursor = choice);
  }
}

/** The OAuthClient type of the schema document (the server's in remote mode). */
async function clientType(ui: Ui): Promise<SchemaType> {
  const types = await ui.backend.client.schema() as unknown as SchemaType[];
  const type = types.find((t) => t.name === "OAuthClient");
  if (!type) throw new Error("This server's schema has no OAuthClient type.");
  return type;
}

/** The create form: confidential or public, then the fields of {@link CREATE_FIELDS}. */
async function createClient(ui: Ui, type: SchemaType): Promise<void> {
  const path = ["OAuth clients", "New"];
  const forms = CREATE_FIELDS.flatMap((name) => formFields(type).filter((f) => f.field.name === name));
  let last: Record<string, unknown> = {};
  let variant: string | undefined;
  const created = await askAndSave(
    ui,
    path,
    async (error) => {
      ui.draw(path, error ? errorLines(error) : [], FORM_KEYS);
      const kind = await ui.prompts.menu("Kind of client", [
        {
          value: "confidential",
          name: "Confidential",
          description: "A server-side application that keeps a secret (shown once)",
        },
        {
          value: "public",
          name: "Public",
          description: "A native or browser application without a secret (PKCE only)",
        },
      ], { default: variant, help: false, pageSize: 2 });
      if (isKey(kind)) return undefined;
      variant = kind;
      const answers: Record<string, unknown> = {};
      for (const form of forms) {
        const answer = await askField(ui, form, last[form.field.name]);
        if (!answer) return undefined;
        // An empty optional text (a generated client_id) is left out rather than sent empty.
        if (answer.value !== "" && answer.value !== null) answers[form.field.name] = answer.value;
      }
      return (last = answers);
    },
    (answers) => ui.backend.client.create(`${TYPE}/${variant}`, answers),
  );
  if (!created) return;
  const lines = [
    `Created client ${created.name ?? last.name} with client_id ${created.clientId} (id ${created.id}).`,
  ];
  if (typeof created.secret === "string") {
    lines.push(
      "",
      `Client secret: ${created.secret}`,
      "It is shown this once and stored hashed: copy it now.",
    );
  }
  await ui.showDone(path, lines);
}

/** One client: every writable field as a form, and delete. */
async function clientDetail(ui: Ui, type: SchemaType, id: string): Promise<void> {
  const { client } = ui.backend;
  const editable = { ...type, fields: type.fields.filter((f) => !f.immutable) };
  let last: string | undefined;
  for (;;) {
    let current: WireObject;
    try {
      current = await client.get(TYPE, id);
    } catch (error) {
      await ui.showError(["OAuth clients", id], error);
      return;
    }
    const path = ["OAuth clients", String(current.name)];
    ui.draw(path, [
      `client_id ${current.clientId} · ${current["@type"] ?? ""} · owner ${showValue(current.ownerId)}`,
      "Enter edits a field; each change is saved at once.",
    ]);
    const choice = await ui.prompts.menu("Field", [
      ...settingsChoices(editable, current, ui.columns),
      { value: DELETE, name: "Delete…", description: "Its tokens stop working at once" },
    ], { default: last, pageSize: ui.pageSize(6) });
    if (isKey(choice)) {
      if (choice.name === "back") return;
      if (choice.name === "help") await showHelp(ui, HELP.clients);
      continue;
    }
    last = choice;
    if (choice === DELETE) {
      if (await deleteClient(ui, current)) return;
      continue;
    }
    const form = formFields(editable).find((f) => f.field.name === choice)!;
    await editField(ui, { path: [...path, choice], typePath: TYPE, id, form, current: current[choice] });
  }
}

/** Asks, then deletes. */
async function deleteClient(ui: Ui, current: WireObject): Promise<boolean> {
  const path = ["OAuth clients", String(current.name), "Delete"];
  ui.draw(path, [
    `Delete client ${current.name} (client_id ${current.clientId})?`,
    "Its grants, refresh and access tokens stop working at once.",
  ], [["y", "yes"], ["n/enter", "no"], ["esc", "cancel"]]);
  const sure = await ui.prompts.yesNo(`Delete ${current.name}?`, false);
  if (sure !== true) return false;
  try {
    await ui.backend.client.delete(TYPE, String(current.id));
  } catch (error) {
    await ui.showError(path, error);
    return false;
  }
  await ui.showDone(path, [`Deleted client ${current.name}.`]);
  return true;
}
