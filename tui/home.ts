/** The home screen: the dashboard and the menu to every other screen. */
import { keysScreen } from "./access_keys.ts";
import { accountsScreen } from "./accounts.ts";
import { actionsScreen } from "./actions.ts";
import type { Fact } from "./backend.ts";
import { clientsScreen } from "./clients.ts";
import { domainsScreen } from "./domains.ts";
import { grantsScreen } from "./grants.ts";
import { groupsScreen } from "./groups.ts";
import { HELP, showHelp } from "./help.ts";
import { count as countOf } from "./list.ts";
import { queueScreen } from "./queue.ts";
import { settingsScreen } from "./settings.ts";
import { detailLines, isKey, type Ui } from "./ui.ts";

const SCREENS: Record<string, { name: string; description: string; open: (ui: Ui) => Promise<void> }> = {
  accounts: {
    name: "Accounts",
    description: "Users and groups: search, create, edit, reset a password, delete",
    open: accountsScreen,
  },
  groups: { name: "Groups", description: "Groups and their members: add, remove", open: groupsScreen },
  domains: { name: "Domains", description: "Mail domains: create, edit, delete", open: domainsScreen },
  clients: {
    name: "OAuth clients",
    description: "Applications that sign users in: register, edit, delete",
    open: clientsScreen,
  },
  grants: {
    name: "OAuth grants",
    description: "Who is signed in at which client, with which scopes: revoke one or all",
    open: (ui) => grantsScreen(ui),
  },
  apiKeys: {
    name: "API keys",
    description: "Bearer keys for scripts, of every account: create (shown once), edit, delete",
    open: (ui) => keysScreen(ui, "api-key"),
  },
  appPasswords: {
    name: "App passwords",
    description: "Passwords for single mail clients, of every account: create (shown once), delete",
    open: (ui) => keysScreen(ui, "app-password"),
  },
  queue: {
    name: "Queue",
    description: "Outbound mail waiting for delivery: retry, cancel, delete",
    open: queueScreen,
  },
  settings: {
    name: "Settings",
    description: "Caches, authentication, the OpenID provider: forms from the schema",
    open: settingsScreen,
  },
  actions: {
    name: "Actions",
    description: "Invalidate caches, rotate the signing key, check and repair the database",
    open: actionsScreen,
  },
};

/** Runs the UI from its home screen until the user quits. */
export async function runHome(ui: Ui): Promise<void> {
  let last = "accounts";
  for (;;) {
    ui.draw(["Home"], ["Loading…"]);
    const body = detailLines((await dashboard(ui)).map((f) => [f.label, f.value]), ui.columns);
    ui.draw(["Home"], body);
    const choice = await ui.prompts.menu(
      "Go to",
      [
        ...Object.entries(SCREENS).map(([value, s]) => ({ value, name: s.name, description: s.description })),
        { value: "quit", name: "Quit", description: "Leave the admin UI" },
      ],
      { keys: [["r", "refresh"]], back: "quit", default: last, pageSize: () => ui.pageSize() },
    );
    if (isKey(choice)) {
      // q quits at once; Esc, easily pressed once too often on the way back, asks first.
      if (choice.name === "back" && (choice.pressed === "q" || await confirmQuit(ui))) return;
      if (choice.name === "help") await showHelp(ui, HELP.home);
      continue;
    }
    if (choice === "quit") return;
    last = choice;
    await SCREENS[choice].open(ui);
  }
}

/** Asks whether to leave the UI (Esc on the home screen); no, Esc or enter stays. */
async function confirmQuit(ui: Ui): Promise<boolean> {
  ui.draw(["Home"], ["Esc on the home screen leaves the admin UI (q leaves at once, Ctrl+C anywhere)."]);
  return (await ui.prompts.yesNo("Quit the admin UI?")) === true;
}

/** The dashboard's lines: object counts from the object client, then what the mode can tell. */
export async function dashboard(ui: Ui): Promise<Fact[]> {
  const { client } = ui.backend;
  const count = (type: string) => client.query(type, {}, ["id"]).then((list) => list.length);
  const facts: Fact[] = [];
  try {
    const [users, groups, domains] = await Promise.all([
      count("account/user"),
      count("account/group"),
      count("domain"),
    ]);
    facts.push({
      label: "Accounts",
      value: `${countOf(users, "user")} · ${countOf(groups, "group")} · ${countOf(domains, "domain")}`,
    });
  } catch (error) {
    facts.push({ label: "Directory", value: `cannot be read: ${(error as Error).message}` });
  }
  try {
    facts.push(...await ui.backend.facts());
  } catch (error) {
    facts.push({ label: "Status", value: `unavailable: ${(error as Error).message}` });
  }
  return facts;
}
