/**
 * OAuth grants: the token families clients hold, of every account (from the home screen) or of one
 * (from its detail view). A grant is read and revoked, never edited; revoking ends its access and
 * refresh tokens at the client's next request.
 */
import { decodeId } from "../src/model/ids.ts";
import type { WireObject } from "../src/directory/mod.ts";
import { showValue, wireList } from "./format.ts";
import { HELP } from "./help.ts";
import { count, pickFromList } from "./list.ts";
import { deleteEach, revocableDetail } from "./revocable.ts";
import type { Ui } from "./ui.ts";

const TYPE = "oauth-grant";

/** The grants of `owner`, or of every account; enter opens one, `r` revokes every grant listed. */
export async function grantsScreen(ui: Ui, owner?: WireObject): Promise<void> {
  const path = owner ? ["Accounts", String(owner.name), "OAuth grants"] : ["OAuth grants"];
  let cursor: string | undefined;
  for (;;) {
    ui.draw(path, ["Loading…"]);
    let grants: WireObject[];
    let names: Map<string, string>;
    try {
      [grants, names] = await Promise.all([activeGrants(ui, owner), accountNames(ui)]);
    } catch (error) {
      await ui.showError(path, error);
      return;
    }
    const pick = await pickFromList(ui, {
      path,
      summary: `${count(grants.length, "active grant")}: clients signed in, with the scopes they hold`,
      head: ["ACCOUNT", "CLIENT", "SCOPES", "EXPIRES"],
      rows: grants.map((g) => ({
        id: String(g.id),
        cells: [
          names.get(String(g.accountId)) ?? String(g.accountId),
          clientLabel(g),
          wireList(g.scopes).join(" "),
          String(g.expiresAt),
        ],
      })),
      create: {
        name: "Revoke all listed…",
        description: "Ends every grant shown here; asks first",
        key: ["r", "revoke all"],
      },
      help: HELP.grants,
      cursor,
    });
    if (pick.kind === "back") return;
    if (pick.kind === "new") await revokeAll(ui, path, grants, owner);
    else await grantDetail(ui, path, cursor = pick.id);
  }
}

/** The unexpired grants of `owner`, or of everyone, newest first (the query answers in id order). */
export async function activeGrants(ui: Ui, owner?: WireObject): Promise<WireObject[]> {
  const grants = await ui.backend.client.query(TYPE, owner ? { accountId: owner.id } : {});
  const age = (g: WireObject) => [String(g.createdAt ?? ""), decodeId(String(g.id)) ?? 0] as const;
  return grants.sort((a, b) => {
    const [[createdA, idA], [createdB, idB]] = [age(a), age(b)];
    return createdB.localeCompare(createdA) || idB - idA;
  });
}

/** "Webmail (webmail-1)", or the client_id alone. */
export function clientLabel(grant: WireObject): string {
  return grant.clientName ? `${grant.clientName} (${grant.clientId})` : String(grant.clientId);
}

async function accountNames(ui: Ui): Promise<Map<string, string>> {
  const accounts = await ui.backend.client.query("account", {}, ["name"]);
  return new Map(accounts.map((a) => [String(a.id), String(a.name)]));
}

/** One grant: what it is, and revoke. */
function grantDetail(ui: Ui, listPath: string[], id: string): Promise<void> {
  return revocableDetail(ui, {
    listPath,
    type: TYPE,
    id,
    facts: grantFacts,
    action: { name: "Revoke…", description: "Its access and refresh tokens stop at the next request" },
    help: HELP.grants,
    revoke: (path, grant) => revokeAll(ui, path, [grant]),
  });
}

/** The detail view's lines. */
function grantFacts(grant: WireObject): [string, string][] {
  return [
    ["Client", clientLabel(grant)],
    ["Account", String(grant.accountId)],
    ["Grant", String(grant.grantType)],
    ["Scopes", wireList(grant.scopes).join(" ") || "(none)"],
    ["Refresh token", grant.hasRefreshToken ? "yes" : "no (access tokens only)"],
    ["Signed in", showValue(grant.authTime)],
    ["Started", showValue(grant.createdAt)],
    ["Ends", `${showValue(grant.expiresAt)} unless used again`],
  ];
}

/**
 * Asks, then revokes each grant (destroying it, so every process refuses its tokens at once); true
 * when something was revoked. Used for one grant, a list, and an account's "Revoke all tokens".
 */
export async function revokeAll(
  ui: Ui,
  path: string[],
  grants: readonly WireObject[],
  owner?: WireObject,
): Promise<boolean> {
  const here = [...path, "Revoke"];
  if (grants.length === 0) {
    await ui.showDone(here, [
      owner ? `${owner.name} has no active OAuth grants.` : "No active OAuth grants.",
    ]);
    return false;
  }
  const clients = [...new Set(grants.map(clientLabel))];
  const whose = owner ? ` of ${owner.name}` : "";
  ui.draw(here, [
    `Revoke ${count(grants.length, "OAuth grant")}${whose}?`,
    `Clients: ${clients.join(", ")}`,
    "Their access and refresh tokens stop working at the next request; the user signs in again there.",
    "API keys and app passwords are not touched.",
  ], [["y", "yes"], ["n/enter", "no"], ["esc", "cancel"]]);
  const sure = await ui.prompts.yesNo(`Revoke ${count(grants.length, "grant")}?`, false);
  if (sure !== true) return false;
  const { deleted: revoked, failed } = await deleteEach(ui, here, { type: TYPE, objects: grants });
  if (failed) return revoked > 0;
  await ui.showDone(here, [`Revoked ${count(revoked, "OAuth grant")}${whose}.`]);
  return true;
}
