/** The create form of an account: type, name, domain, description and, for a user, role and password. */
import type { WireObject } from "../src/directory/mod.ts";
import { ACCOUNT, localPartSchema } from "../src/model/objects/mod.ts";
import { askAndSave, FORM_KEYS, refusedFields, rule, value } from "./form.ts";
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
    const answers = await askNewAccount(ui, path, domains, { body, previous, type, ask: toAsk(error) });
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

/** The answers of the form, by the account property a refusal names. */
const ANSWER_OF: Record<string, keyof NewAccount> = {
  "@type": "type",
  name: "name",
  domainId: "domainId",
  description: "description",
  roles: "role",
  credentials: "password",
};

/**
 * Which answers a refusal asks again (the others are kept): those it names; a refusal naming none (a
 * taken address is a conflict, not a property) asks the name and the domain; no refusal asks everything.
 */
function toAsk(error: unknown): (answer: keyof NewAccount) => boolean {
  if (!error) return () => true;
  const named = new Set([...refusedFields(error)].map((property) => ANSWER_OF[property]).filter(Boolean));
  if (named.size === 0) return (answer) => answer === "name" || answer === "domainId";
  return (answer) => named.has(answer);
}

async function askNewAccount(
  ui: Ui,
  path: string[],
  domains: WireObject[],
  options: {
    body: string[];
    previous?: NewAccount;
    type?: NewAccount["type"];
    ask: (answer: keyof NewAccount) => boolean;
  },
): Promise<NewAccount | undefined> {
  const { prompts } = ui;
  const before = options.previous;
  // With earlier answers, only what the refusal named is asked again; the rest is kept as it was.
  const keep = (answer: keyof NewAccount) => before !== undefined && !options.ask(answer);
  const show = (answers: string[]) => ui.draw(path, [...options.body, ...answers], FORM_KEYS);
  show([]);
  const type = options.type ?? (keep("type") ? before!.type : undefined) ?? value(
    await prompts.menu("Type", [
      { value: "User" as const, name: "User", description: "Someone who logs in" },
      { value: "Group" as const, name: "Group", description: "A shared mailbox its members use" },
    ], { default: before?.type, help: false }),
  );
  if (!type) return undefined;
  const done = [`Type: ${type}`];
  show(done);
  const name = keep("name") ? before!.name : value(
    await prompts.text("Name (login and local part of the address)", {
      default: before?.name,
      validate: rule(localPartSchema),
    }),
  );
  if (name === undefined) return undefined;
  done.push(`Name: ${name}`);
  let domainId = keep("domainId") ? before!.domainId : String(domains[0].id);
  if (domains.length > 1 && !keep("domainId")) {
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
  const description = keep("description") ? before!.description : value(
    await prompts.text("Description (optional, e.g. the full name)", { default: before?.description }),
  );
  if (description === undefined) return undefined;
  if (description) done.push(`Description: ${description}`);
  const answers: NewAccount = { type, name, domainId, description, role: "user" };
  if (type === "User") {
    show(done);
    const roles = ACCOUNT.fields.roles.enum ?? ["user", "admin"];
    const role = keep("role") ? before!.role : value(
      await prompts.menu("Role", roles.map((r) => ({ value: r, name: r })), {
        default: before?.role ?? "user",
        help: false,
      }),
    );
    if (role === undefined) return undefined;
    answers.role = role;
    done.push(`Role: ${role}`);
    // A refused password is chosen again (reusing it would be refused again, until Esc).
    answers.password = keep("password") && before?.password
      ? before.password
      : await choosePassword(ui, path, { allowNone: true, body: [...options.body, ...done] });
    if (!answers.password) return undefined;
  }
  return answers;
}
