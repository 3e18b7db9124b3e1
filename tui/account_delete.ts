/** Deleting an account: a confirmation that lists what goes with it, then what was removed. */
import type { WireObject } from "../src/directory/mod.ts";
import { wireList } from "./format.ts";
import type { Ui } from "./ui.ts";

/** Words for the counts a delete removes. */
const REMOVED_WORDS: Record<string, string> = {
  addresses: "addresses (primary and aliases)",
  credentials: "credentials (password, app passwords, API keys)",
  groupMemberships: "group memberships",
  grants: "sharing grants it gives or holds",
  mailboxes: "mailboxes",
  messages: "messages",
  oauthGrants: "OAuth grants, with their access and refresh tokens",
};

/** What deleting the account removes, counted where the mode can count it. */
async function cascadeLines(ui: Ui, account: WireObject): Promise<string[]> {
  const counts = await ui.backend.dependents?.(String(account.id)).catch(() => undefined);
  if (counts) {
    return Object.entries(counts).map(([k, n]) => `  ${String(n).padStart(5)} ${REMOVED_WORDS[k] ?? k}`);
  }
  return [
    `  ${String(1 + wireList(account.aliases).length).padStart(5)} ${REMOVED_WORDS.addresses}`,
    `  ${String(wireList(account.memberGroupIds).length).padStart(5)} ${REMOVED_WORDS.groupMemberships}`,
    `      - its password, app passwords and API keys`,
    `      - the sharing grants it gives or holds`,
    `      - its mailboxes and messages`,
    `      - its OAuth grants, with their access and refresh tokens`,
    "  (counted exactly only in local mode: postern --data DIR tui)",
  ];
}

/** Asks before deleting, listing the cascade; returns whether the account was deleted. */
export async function deleteAccount(ui: Ui, account: WireObject): Promise<boolean> {
  const path = ["Accounts", String(account.name), "Delete"];
  const lines = [
    `Delete ${String(account["@type"]).toLowerCase()} ${account.name} <${account.emailAddress}>?`,
    "Deleting it also removes:",
    ...await cascadeLines(ui, account),
  ];
  ui.draw(path, lines, [["y", "yes"], ["n/enter", "no, keep it"], ["esc", "cancel"]]);
  const sure = await ui.prompts.yesNo(`Delete ${account.name} and everything listed?`, false);
  if (sure !== true) return false;
  try {
    const deleted = await ui.backend.client.delete("account", String(account.id));
    const removed = Object.entries((deleted.removed ?? {}) as Record<string, number>).filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${REMOVED_WORDS[k] ?? k}`);
    await ui.showDone(path, [
      `Deleted ${account.name}.`,
      ...(removed.length ? ["Also removed:", ...removed.map((r) => `  ${r}`)] : []),
    ]);
    return true;
  } catch (error) {
    await ui.showError(path, error);
    return false;
  }
}
