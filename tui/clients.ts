/**
 * The OAuth clients screen: list, create (a confidential client's secret shown once), edit every field
 * through the form generated from the schema, delete. Same object layer as `postern … oauth-client`.
 */
import type { WireObject } from "../src/directory/mod.ts";
import { askAndSave, FORM_KEYS } from "./form.ts";
import { showValue, wireList } from "./format.ts";
import { HELP } from "./help.ts";
import { count, pickFromList } from "./list.ts";
import { type DetailView, objectDetail, schemaType } from "./object_detail.ts";
import { askFields, formFields, refusesField, type SchemaType } from "./schema_form.ts";
import { errorLines, isKey, type Ui } from "./ui.ts";

const TYPE = "oauth-client";
/** Fields the create form asks, in this order; the rest keep their defaults and are edited later. */
const CREATE_FIELDS = ["name", "clientId", "redirectUris", "grantTypes", "scopes"];

/** The list of clients; enter opens one, `n` creates. */
export async function clientsScreen(ui: Ui): Promise<void> {
  const path = ["OAuth clients"];
  let type: SchemaType;
  try {
    type = await schemaType(ui, "OAuthClient");
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
    const pick = await pickFromList(ui, {
      path,
      summary: count(clients.length, "client"),
      head: ["NAME", "CLIENT ID", "TYPE", "GRANTS"],
      rows: clients.map((c) => ({
        id: String(c.id),
        cells: [
          String(c.name),
          String(c.clientId),
          String(c["@type"] ?? ""),
          wireList(c.grantTypes).join(" "),
        ],
      })),
      create: { name: "+ New client…", description: "Register an application" },
      help: HELP.clients,
      cursor,
    });
    if (pick.kind === "back") return;
    if (pick.kind === "new") await createClient(ui, type);
    else await objectDetail(ui, type, DETAIL, cursor = pick.id);
  }
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
      // A refusal of one field asks that field alone again; the kind stays as chosen.
      if (!variant || !refusesField(forms, error)) {
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
      }
      // An empty optional text (a generated client_id) is left out rather than sent empty.
      const answers = await askFields(ui, forms, { answers: last, error });
      return answers && (last = answers);
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

/** The detail view of a client. */
const DETAIL: DetailView = {
  typePath: TYPE,
  path: ["OAuth clients"],
  help: HELP.clients,
  title: (c) => `client ${c.name}`,
  summary: (c) => [`client_id ${c.clientId} · ${c["@type"] ?? ""} · owner ${showValue(c.ownerId)}`],
  deleteNote: "Its grants, refresh and access tokens stop working at once.",
};
