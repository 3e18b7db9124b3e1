/** The accounts screen: a paged list with search as you type, and each account's detail view. */
import type { WireObject } from "../src/directory/mod.ts";
import { KEY_KINDS, type KeyKind, keysScreen } from "./access_keys.ts";
import { createAccount } from "./account_create.ts";
import { deleteAccount } from "./account_delete.ts";
import { editAccount, EDITS } from "./account_edits.ts";
import { formatBytes, showValue, wireList } from "./format.ts";
import { clientLabel, grantsScreen, revokeAll } from "./grants.ts";
import { HELP, showHelp } from "./help.ts";
import { count } from "./list.ts";
import { readSharing, type Sharing, sharingLine, sharingScreen } from "./sharing.ts";
import type { Choice } from "./terminal.ts";
import { detailLines, isKey, tableLines, type Ui } from "./ui.ts";

const NEW = "\0new";
const GRANTS = "\0grants";
const REVOKE_ALL = "\0revoke-all";
const SHARING = "\0sharing";
const HEAD = ["NAME", "TYPE", "ADDRESS", "ON", "DESCRIPTION"];

/** The list of accounts; `/` searches as you type, `n` creates, enter opens one. */
export async function accountsScreen(ui: Ui): Promise<void> {
  let filter = "";
  let cursor: string | undefined;
  for (;;) {
    const path = ["Accounts"];
    ui.draw(path, ["Loading…"]);
    let accounts: WireObject[];
    try {
      accounts = await ui.backend.client.query("account", filter ? { text: filter } : {});
    } catch (error) {
      await ui.showError(path, error);
      return;
    }
    const [head, ...rows] = accountTable(accounts, ui.columns - 2);
    const summary = `${accounts.length} account${accounts.length === 1 ? "" : "s"}` +
      (filter ? ` matching "${filter}" (/ to change the search)` : "");
    ui.draw(path, [summary]);
    const choice = await ui.prompts.menu(
      head,
      [
        { value: NEW, name: "+ New account…", description: "Create a user or a group" },
        ...rows.map((name, i) => ({ value: String(accounts[i].id), name })),
      ],
      { keys: [["/", "search"], ["n", "new"]], pageSize: () => ui.pageSize(), default: cursor },
    );
    if (isKey(choice)) {
      if (choice.name === "back") return;
      if (choice.name === "help") await showHelp(ui, HELP.accounts);
      if (choice.name === "n") await createAccount(ui);
      if (choice.name === "/") {
        const found = await searchAccounts(ui, filter);
        filter = found.term;
        if (found.id) await accountDetail(ui, cursor = found.id);
      }
      continue;
    }
    if (choice === NEW) await createAccount(ui);
    else await accountDetail(ui, cursor = choice);
  }
}

/** Search as you type over names, addresses and descriptions; returns the last term and the pick. */
async function searchAccounts(ui: Ui, initial: string): Promise<{ term: string; id?: string }> {
  let term = initial;
  ui.draw(["Accounts", "Search"], ["Type part of a name, an address or a description."]);
  const picked = await ui.prompts.find(
    "Search",
    async (typed): Promise<Choice<string>[]> => {
      term = typed;
      const found = await ui.backend.client.query("account", typed ? { text: typed } : {});
      const [, ...rows] = accountTable(found, ui.columns - 2);
      return rows.map((name, i) => ({ value: String(found[i].id), name }));
    },
    ui.pageSize(4),
  );
  return isKey(picked) ? { term } : { term, id: picked };
}

/** Rows of the accounts table, the heading first. */
export function accountTable(accounts: readonly WireObject[], width: number): string[] {
  return tableLines(
    HEAD,
    accounts.map((a) => [
      String(a.name),
      String(a["@type"]),
      String(a.emailAddress ?? ""),
      a.enabled === false ? "no" : "yes",
      String(a.description ?? ""),
    ]),
    width,
  );
}

/** One account: its details and what can be done to it. */
export async function accountDetail(ui: Ui, id: string): Promise<void> {
  const { client } = ui.backend;
  let last: string | undefined;
  for (;;) {
    let account: WireObject;
    let groups: Map<string, string>;
    let grants: WireObject[];
    const path = ["Accounts", id];
    try {
      [account, groups, grants] = await Promise.all([
        client.get("account", id),
        client.query("account/group", {}, ["name"]).then((list) =>
          new Map(list.map((g) => [String(g.id), String(g.name)]))
        ),
        client.query("oauth-grant", { accountId: id }),
      ]);
    } catch (error) {
      await ui.showError(path, error);
      return;
    }
    path[1] = String(account.name);
    // Sharing needs the account's groups; what it uses is counted only on the local database.
    const [sharing, counts, bytes, keys] = await Promise.all([
      readSharing(ui, account).catch((error: Error) => error.message),
      ui.backend.dependents?.(id).catch(() => undefined),
      ui.backend.storedBytes?.(id).catch(() => undefined),
      keysLine(ui, account),
    ]);
    const usage = counts && { ...counts, ...(bytes === undefined ? {} : { bytes }) };
    const body = detailLines(accountFacts(account, groups, { grants, sharing, usage, keys }), ui.columns);
    ui.draw(path, body);
    const edits = Object.entries(EDITS).filter(([, e]) =>
      !e.variants || e.variants.includes(String(account["@type"]))
    );
    const choice = await ui.prompts.menu(
      "Account",
      [
        ...edits.map(([value, e]) => ({ value, name: e.label(account), description: e.description })),
        ...(account["@type"] === "User"
          ? (Object.keys(KEY_KINDS) as KeyKind[]).map((kind) => ({
            value: kind,
            name: `${KEY_KINDS[kind].title}…`,
            description: `This account's ${KEY_KINDS[kind].one}s: create, edit, delete`,
          }))
          : []),
        ...(account["@type"] === "User"
          ? [
            { value: GRANTS, name: "OAuth grants…", description: "Clients it is signed in at: revoke one" },
            {
              value: REVOKE_ALL,
              name: "Revoke all tokens…",
              description: "Ends every OAuth grant: each client must sign in again",
            },
          ]
          : []),
        {
          value: SHARING,
          name: "Sharing…",
          description: "Mailbox grants it gives and holds, rights in words: remove one or all",
        },
        { value: "delete", name: "Delete…", description: "Asks first, listing what goes with it" },
      ],
      { pageSize: () => ui.pageSize(), default: last },
    );
    if (isKey(choice)) {
      if (choice.name === "back") return;
      if (choice.name === "help") await showHelp(ui, HELP.accounts);
      continue;
    }
    last = choice;
    if (choice === "delete") {
      if (await deleteAccount(ui, account)) return;
      continue;
    }
    if (choice === GRANTS) await grantsScreen(ui, account);
    else if (choice === SHARING) await sharingScreen(ui, account);
    else if (choice === REVOKE_ALL) await revokeAll(ui, path, grants, account);
    else if (choice in KEY_KINDS) await keysScreen(ui, choice as KeyKind, account);
    else await editAccount(ui, account, choice);
  }
}

/** What the detail view shows beyond the account object. */
export interface AccountExtras {
  /** Its active OAuth grants. */
  grants?: readonly WireObject[];
  /** Its mailbox grants, or why they could not be read. */
  sharing?: Sharing | string;
  /** What it holds, counted (local mode only): mailboxes, addresses… */
  usage?: Record<string, number>;
  /** Its API keys and app passwords, counted. */
  keys?: string;
}

/** The detail view's lines. */
export function accountFacts(
  account: WireObject,
  groups: Map<string, string>,
  extras: AccountExtras = {},
): [string, string][] {
  const { grants = [], sharing, usage, keys } = extras;
  const aliases = wireList(account.aliases).map(String);
  const memberOf = wireList(account.memberGroupIds).map((g) => groups.get(String(g)) ?? `(missing ${g})`);
  const user = account["@type"] === "User";
  const sendsAs = wireList(account.sendAsGroupIds).map((g) => groups.get(String(g)) ?? `(missing ${g})`);
  return [
    ["Name", `${account.name} (${account["@type"]}, id ${account.id})`],
    ["Addresses", [String(account.emailAddress), ...aliases].join(", ")],
    ["Description", showValue(account.description)],
    ["Groups", memberOf.length ? memberOf.join(", ") : "(none)"],
    ...(user
      ? [["Sends as", sendsAs.length ? sendsAs.join(", ") : "(own addresses only)"] as [string, string]]
      : []),
    ...(user ? [["Roles", showValue(account.roles)] as [string, string]] : []),
    ...(user && wireList(account.forwardTo).length
      ? [[
        "Forwards to",
        wireList(account.forwardTo).join(", ") + (account.forwardKeepCopy === false ? " (no copy kept)" : ""),
      ] as [string, string]]
      : []),
    ["Enabled", showValue(account.enabled !== false)],
    ["Quotas", quotaLine(account, usage)],
    ...(user ? [["Password", account.credentials ? "set" : "none (cannot log in)"] as [string, string]] : []),
    ...(user && keys ? [["Keys", keys] as [string, string]] : []),
    ...(user ? [["OAuth", grantsLine(grants)] as [string, string]] : []),
    [
      "Sharing",
      sharing === undefined
        ? "(not read)"
        : typeof sharing === "string"
        ? `cannot be read: ${sharing}`
        : sharingLine(sharing),
    ],
    ["Created", `${showValue(account.createdAt)} · changed ${showValue(account.updatedAt)}`],
  ];
}

/**
 * "mailboxes 6 of 100 · disk 12 KiB of 1 GiB in 3 messages · maxApiKeys 5": each limit with what
 * is used, where this mode counts it (on the local database).
 */
function quotaLine(account: WireObject, usage: Record<string, number> | undefined): string {
  const limits = (account.quotas ?? {}) as Record<string, number>;
  const parts: string[] = [];
  const used = (value: number | undefined, show: (n: number) => string = String) =>
    value === undefined ? "" : `${show(value)} `;
  if (usage?.mailboxes !== undefined || limits.maxMailboxes !== undefined) {
    const limit = limits.maxMailboxes === undefined ? "(no limit)" : `of ${limits.maxMailboxes}`;
    parts.push(`mailboxes ${used(usage?.mailboxes)}${limit}`);
  }
  if (usage?.bytes !== undefined || limits.maxDiskQuota !== undefined) {
    const limit = limits.maxDiskQuota === undefined ? "(no limit)" : `of ${formatBytes(limits.maxDiskQuota)}`;
    const messages = usage?.messages === undefined ? "" : ` in ${count(usage.messages, "message")}`;
    parts.push(`disk ${used(usage?.bytes, formatBytes)}${limit}${messages}`);
  }
  for (const [name, value] of Object.entries(limits)) {
    if (name !== "maxMailboxes" && name !== "maxDiskQuota") parts.push(`${name} ${value}`);
  }
  return parts.length ? parts.join(" · ") : "no limits";
}

/** "1 API key · 2 app passwords" for a user; undefined for a group or when they cannot be read. */
async function keysLine(ui: Ui, account: WireObject): Promise<string | undefined> {
  if (account["@type"] !== "User") return undefined;
  try {
    const kinds = Object.keys(KEY_KINDS) as KeyKind[];
    const lists = await Promise.all(
      kinds.map((kind) => ui.backend.client.query(kind, { accountId: account.id })),
    );
    return kinds.map((kind, i) => count(lists[i].length, KEY_KINDS[kind].one)).join(" · ");
  } catch (error) {
    return `cannot be read: ${(error as Error).message}`;
  }
}

/** "2 active grants: Webmail (webmail), Thunderbird (thunderbird)". */
function grantsLine(grants: readonly WireObject[]): string {
  if (grants.length === 0) return "no active grants";
  return `${count(grants.length, "active grant")}: ${[...new Set(grants.map(clientLabel))].join(", ")}`;
}
