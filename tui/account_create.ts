/** The create form of an account: type, name, domain, description and, for a user, role and password. */
import type { WireObject } from "../src/directory/mod.ts";
import { ACCOUNT, localPartSchema } from "../src/model/objects/mod.ts";
import { askAndSave, FORM_KEYS, rule, value } from "./form.ts";
import { choosePassword, credentials } from "./password.ts";
import { errorLines, type Ui } from "./ui.ts";

interface NewAccount {
  type: "User" | "Group";
  name: string;
  domainId: string;
  description: string;
  role: string;
  password?: { secret: string | null; generated: boolean };
}

/**
 * The create form: type (unless `type` is given, as the groups screen does), name, domain, description
 * and, for a user, role and password.
 */
export async function createAccount(ui: Ui, type?: NewAccount["type"]): Promise<void> {
  const { client } = ui.backend;
  const path = type === "Group" ? ["Groups", "New"] : ["Accounts", "New"];
  const domains = await client.query("domain", {}).catch(() => []);
  if (domains.length === 0) {
    await ui.showError(path, new Error("There is no domain yet: create one on the Domains screen first"));
    return;
  }
  let previous: NewAccount | undefined;
  const created = await askAndSave(ui, path, async (error) => {
    const body = error ? [...errorLines(error), "Change the answers and try again, or press Esc."] : [];
    const answers = await askNewAccount(ui, path, domains, { body, previous, type });
    if (answers) previous = answers;
    return answers;
  }, async (a) => {
    const fields: WireObject = { name: a.name, domainId: a.domainId };
    if (a.description) fields.description = a.description;
    if (a.type === "User") {
      fields.roles = [a.role];
      if (a.password?.secret) fields.credentials = credentials(a.password.secret);
    }
    return await client.create(`account/${a.type.toLowerCase()}`, fields);
  });
  if (!created || !previous) return;
  const lines = [`Created ${previous.type.toLowerCase()} ${created.emailAddress} (id ${created.id}).`];
  if (previous.password?.generated) {
    lines.push("", `Password (shown only this once, store it now): ${previous.password.secret}`);
  }
  await ui.showDone(path, lines);
}

async function askNewAccount(
  ui: Ui,
  path: string[],
  domains: WireObject[],
  options: { body: string[]; previous?: NewAccount; type?: NewAccount["type"] },
): Promise<NewAccount | undefined> {
  const { prompts } = ui;
  const before = options.previous;
  const show = (answers: string[]) => ui.draw(path, [...options.body, ...answers], FORM_KEYS);
  show([]);
  const type = options.type ?? value(
    await prompts.menu("Type", [
      { value: "User" as const, name: "User", description: "Someone who logs in" },
      { value: "Group" as const, name: "Group", description: "A shared mailbox its members use" },
    ], { default: before?.type, help: false }),
  );
  if (!type) return undefined;
  const done = [`Type: ${type}`];
  show(done);
  const name = value(
    await prompts.text("Name (login and local part of the address)", {
      default: before?.name,
      validate: rule(localPartSchema),
    }),
  );
  if (name === undefined) return undefined;
  done.push(`Name: ${name}`);
  let domainId = String(domains[0].id);
  if (domains.length > 1) {
    show(done);
    const picked = value(
      await prompts.menu("Domain", domains.map((d) => ({ value: String(d.id), name: String(d.name) })), {
        default: before?.domainId,
        help: false,
      }),
    );
    if (picked === undefined) return undefined;
    domainId = picked;
  }
  done.push(`Domain: ${domains.find((d) => String(d.id) === domainId)?.name}`);
  show(done);
  const description = value(
    await prompts.text("Description (optional, e.g. the full name)", { default: before?.description }),
  );
  if (description === undefined) return undefined;
  if (description) done.push(`Description: ${description}`);
  const answers: NewAccount = { type, name, domainId, description, role: "user" };
  if (type === "User") {
    show(done);
    const roles = ACCOUNT.fields.roles.enum ?? ["user", "admin"];
    const role = value(
      await prompts.menu("Role", roles.map((r) => ({ value: r, name: r })), {
        default: before?.role ?? "user",
        help: false,
      }),
    );
    if (role === undefined) return undefined;
    answers.role = role;
    done.push(`Role: ${role}`);
    answers.password = before?.password ??
      await choosePassword(ui, path, { allowNone: true, body: [...options.body, ...done] });
    if (!answers.password) return undefined;
  }
  return answers;
}
