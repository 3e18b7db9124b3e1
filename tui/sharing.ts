/**
 * Sharing, for one account: the mailbox grants it gives (others' rights on its mailboxes) and holds
 * (its rights, or its groups', on others' mailboxes), with rights in words; remove one or all listed.
 * Grants are made by the owner's mail client (Mailbox/set shareWith); here they are read and removed.
 */
import type { WireObject } from "../src/directory/mod.ts";
import { wireList } from "./format.ts";
import { HELP } from "./help.ts";
import { count, pickFromList } from "./list.ts";
import { deleteEach, revocableDetail } from "./revocable.ts";
import type { Ui } from "./ui.ts";

const TYPE = "mailbox-grant";

/** Each right of RFC 8621 §2 and RFC 9670, as an administrator reads it. */
const RIGHT_WORDS: Record<string, string> = {
  mayReadItems: "read",
  mayAddItems: "add messages",
  mayRemoveItems: "remove messages",
  maySetSeen: "mark read",
  maySetKeywords: "flag",
  mayCreateChild: "create folders",
  mayRename: "rename",
  mayDelete: "delete",
  maySubmit: "send as",
  mayShare: "share",
};

/** "read, mark read, flag": the grant's rights in words. */
export function rightsInWords(grant: WireObject): string {
  const words = wireList(grant.rights).map((r) => RIGHT_WORDS[String(r)] ?? String(r));
  return words.length ? words.join(", ") : "(none)";
}

/** The grants an account gives and the ones it holds, itself or through its groups. */
export interface Sharing {
  gives: WireObject[];
  holds: WireObject[];
}

/** Reads the account's sharing; `groupIds` are the groups it belongs to (their grants reach it). */
export async function readSharing(ui: Ui, account: WireObject): Promise<Sharing> {
  const { client } = ui.backend;
  const holders = [String(account.id), ...wireList(account.memberGroupIds).map(String)];
  const [gives, ...held] = await Promise.all([
    client.query(TYPE, { ownerId: account.id }),
    ...holders.map((granteeId) => client.query(TYPE, { granteeId })),
  ]);
  return { gives, holds: held.flat() };
}

/** "gives 2 (bob, team) · holds 1 (from alice)": the detail view's line. */
export function sharingLine(sharing: Sharing): string {
  const names = (grants: WireObject[], key: string) => [...new Set(grants.map((g) => String(g[key])))];
  const gives = sharing.gives.length
    ? `gives ${count(sharing.gives.length, "grant")} (to ${names(sharing.gives, "granteeName").join(", ")})`
    : "gives none";
  const holds = sharing.holds.length
    ? `holds ${sharing.holds.length} (from ${names(sharing.holds, "ownerName").join(", ")})`
    : "holds none";
  return `${gives} · ${holds}`;
}

/** The account's sharing as a list; enter opens a grant, `r` removes every grant listed. */
export async function sharingScreen(ui: Ui, account: WireObject): Promise<void> {
  const path = ["Accounts", String(account.name), "Sharing"];
  let cursor: string | undefined;
  for (;;) {
    ui.draw(path, ["Loading…"]);
    let sharing: Sharing;
    try {
      sharing = await readSharing(ui, account);
    } catch (error) {
      await ui.showError(path, error);
      return;
    }
    const grants = [...sharing.gives, ...sharing.holds];
    const row = (g: WireObject, gives: boolean) => ({
      id: String(g.id),
      cells: gives
        ? ["gives to", `${g.granteeName}${g.granteeType === "Group" ? " (group)" : ""}`]
        : ["holds from", String(g.ownerName) + (g.granteeId === account.id ? "" : ` (as ${g.granteeName})`)],
    });
    const pick = await pickFromList(ui, {
      path,
      summary: `${account.name} ${sharingLine(sharing)}. Made by the owner's mail client; removed here.`,
      head: ["", "ACCOUNT", "MAILBOX", "RIGHTS"],
      rows: [
        ...sharing.gives.map((g) => row(g, true)),
        ...sharing.holds.map((g) => row(g, false)),
      ].map((r, i) => ({
        ...r,
        cells: [...r.cells, String(grants[i].mailboxName), rightsInWords(grants[i])],
      })),
      create: {
        name: "Remove all listed…",
        description: "Ends every grant shown here; asks first",
        key: ["r", "remove all"],
      },
      help: HELP.sharing,
      cursor,
    });
    if (pick.kind === "back") return;
    if (pick.kind === "new") await removeGrants(ui, path, grants);
    else await grantDetail(ui, path, cursor = pick.id);
  }
}

/** One grant in words, and remove. */
function grantDetail(ui: Ui, listPath: string[], id: string): Promise<void> {
  return revocableDetail(ui, {
    listPath,
    type: TYPE,
    id,
    facts: (grant) => [
      ["Mailbox", `${grant.mailboxName} of ${grant.ownerName}`],
      [
        "Granted to",
        `${grant.granteeName}${grant.granteeType === "Group" ? " (a group: all its members)" : ""}`,
      ],
      ["Rights", rightsInWords(grant)],
    ],
    action: { name: "Remove…", description: "The grantee loses the mailbox at its next request" },
    help: HELP.sharing,
    revoke: (path, grant) => removeGrants(ui, path, [grant]),
  });
}

/** Asks, then removes each grant as its owner unsharing would; true when something was removed. */
async function removeGrants(ui: Ui, path: string[], grants: readonly WireObject[]): Promise<boolean> {
  const here = [...path, "Remove"];
  if (grants.length === 0) {
    await ui.showDone(here, ["Nothing is shared here."]);
    return false;
  }
  ui.draw(here, [
    `Remove ${count(grants.length, "mailbox grant")}?`,
    ...grants.slice(0, 8).map((g) =>
      `  ${g.granteeName} on ${g.ownerName}'s ${g.mailboxName}: ${rightsInWords(g)}`
    ),
    ...(grants.length > 8 ? [`  … and ${grants.length - 8} more`] : []),
    "Each grantee loses the mailbox at its next request and is told (a share notification).",
  ], [["y", "yes"], ["n/enter", "no"], ["esc", "cancel"]]);
  const sure = await ui.prompts.yesNo(`Remove ${count(grants.length, "grant")}?`, false);
  if (sure !== true) return false;
  const { deleted: removed, failed } = await deleteEach(ui, here, { type: TYPE, objects: grants });
  if (failed) return removed > 0;
  await ui.showDone(here, [`Removed ${count(removed, "mailbox grant")}.`]);
  return true;
}
