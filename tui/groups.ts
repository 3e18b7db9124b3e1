/**
 * The groups screen: every group with its members; add and remove members (each member's
 * `memberGroupIds` is what changes), choose the members who may send as the group (each member's
 * `sendAsGroupIds`), and the group's own detail view for everything else.
 */
import type { WireObject } from "../src/directory/mod.ts";
import { createAccount } from "./account_create.ts";
import { accountDetail } from "./accounts.ts";
import { wireList } from "./format.ts";
import { HELP, showHelp } from "./help.ts";
import { count, pickFromList } from "./list.ts";
import { detailLines, isKey, type Ui } from "./ui.ts";

/** Accounts (users and groups) that belong to `groupId`. */
function membersOf(accounts: readonly WireObject[], groupId: string): WireObject[] {
  return accounts.filter((a) => wireList(a.memberGroupIds).map(String).includes(groupId));
}

/** The list of groups; enter opens one, `n` creates (as on the accounts screen). */
export async function groupsScreen(ui: Ui): Promise<void> {
  const path = ["Groups"];
  let cursor: string | undefined;
  for (;;) {
    ui.draw(path, ["Loading…"]);
    let accounts: WireObject[];
    try {
      accounts = await ui.backend.client.query("account", {});
    } catch (error) {
      await ui.showError(path, error);
      return;
    }
    const groups = accounts.filter((a) => a["@type"] === "Group");
    const pick = await pickFromList(ui, {
      path,
      summary: count(groups.length, "group"),
      head: ["NAME", "ADDRESS", "MEMBERS", "DESCRIPTION"],
      rows: groups.map((g) => ({
        id: String(g.id),
        cells: [
          String(g.name),
          String(g.emailAddress ?? ""),
          String(membersOf(accounts, String(g.id)).length),
          String(g.description ?? ""),
        ],
      })),
      create: { name: "+ New group…", description: "Create an account of type Group" },
      help: HELP.groups,
      cursor,
    });
    if (pick.kind === "back") return;
    if (pick.kind === "new") await createAccount(ui, "Group");
    else await groupDetail(ui, cursor = pick.id);
  }
}

/** One group: its members, adding and removing them, and the account view of the group. */
async function groupDetail(ui: Ui, id: string): Promise<void> {
  const { client } = ui.backend;
  let last: string | undefined;
  for (;;) {
    let accounts: WireObject[];
    try {
      accounts = await client.query("account", {});
    } catch (error) {
      await ui.showError(["Groups", id], error);
      return;
    }
    const group = accounts.find((a) => String(a.id) === id && a["@type"] === "Group");
    if (!group) return;
    const path = ["Groups", String(group.name)];
    const members = membersOf(accounts, id);
    const senders = members.filter((m) => wireList(m.sendAsGroupIds).map(String).includes(id));
    ui.draw(
      path,
      detailLines([
        ["Group", `${group.name} <${group.emailAddress}> (id ${id})`],
        ["Members", members.length ? members.map((m) => String(m.name)).join(", ") : "(none)"],
        ["May send as it", senders.length ? senders.map((m) => String(m.name)).join(", ") : "(none)"],
      ], ui.columns),
    );
    const choice = await ui.prompts.menu("Group", [
      { value: "add", name: "Add members…", description: "Pick accounts to add (space toggles)" },
      { value: "remove", name: "Remove members…", description: "Pick members to remove (space toggles)" },
      {
        value: "sendAs",
        name: "Who may send as it…",
        description: "Members whose mail may come from the group's addresses (space toggles)",
      },
      {
        value: "account",
        name: "Edit the group…",
        description: "Description, aliases, quotas, rename, delete: the group's account view",
      },
    ], { default: last, pageSize: 4 });
    if (isKey(choice)) {
      if (choice.name === "back") return;
      if (choice.name === "help") await showHelp(ui, HELP.groups);
      continue;
    }
    last = choice;
    if (choice === "account") {
      await accountDetail(ui, id);
      continue;
    }
    if (choice === "sendAs") {
      await chooseSenders(ui, { path, groupId: id, members, senders });
      continue;
    }
    const adding = choice === "add";
    const candidates = adding ? accounts.filter((a) => String(a.id) !== id && !members.includes(a)) : members;
    if (candidates.length === 0) {
      await ui.showDone([...path, adding ? "Add" : "Remove"], [
        adding ? "Every account is already a member." : "The group has no members.",
      ]);
      continue;
    }
    const picked = await ui.prompts.several(
      `${adding ? "Add" : "Remove"} (space toggles, enter saves)`,
      candidates.map((a) => ({ value: a, name: `${a.name}  ${a.emailAddress ?? ""}` })),
    );
    if (isKey(picked)) continue;
    try {
      for (const account of picked) {
        const current = wireList(account.memberGroupIds).map(String);
        await client.update("account", String(account.id), {
          memberGroupIds: adding ? [...current, id] : current.filter((g) => g !== id),
        });
      }
    } catch (error) {
      await ui.showError(path, error);
    }
  }
}

/** Toggles the right to send as the group, for its user members; saves only what changed. */
async function chooseSenders(
  ui: Ui,
  group: { path: string[]; groupId: string; members: WireObject[]; senders: WireObject[] },
): Promise<void> {
  const users = group.members.filter((m) => m["@type"] === "User");
  if (users.length === 0) {
    await ui.showDone([...group.path, "Senders"], ["The group has no user members."]);
    return;
  }
  const picked = await ui.prompts.several(
    "May send as the group (space toggles, enter saves)",
    users.map((a) => ({
      value: a,
      name: `${a.name}  ${a.emailAddress ?? ""}`,
      checked: group.senders.includes(a),
    })),
  );
  if (isKey(picked)) return;
  try {
    for (const account of users) {
      const allowed = picked.includes(account);
      if (allowed === group.senders.includes(account)) continue;
      const current = wireList(account.sendAsGroupIds).map(String);
      await ui.backend.client.update("account", String(account.id), {
        sendAsGroupIds: allowed ? [...current, group.groupId] : current.filter((g) => g !== group.groupId),
      });
    }
  } catch (error) {
    await ui.showError(group.path, error);
  }
}
