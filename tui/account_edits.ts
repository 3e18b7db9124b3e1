/** The edits of an account's detail view: each asks for its change, then the object client saves it. */
import type { WireObject } from "../src/directory/mod.ts";
import { ACCOUNT, addressSchema, localPartSchema } from "../src/model/objects/mod.ts";
import { askAndSave, FORM_KEYS, rule, value } from "./form.ts";
import { formatBytes, parseSize, showValue, wireList } from "./format.ts";
import { choosePassword, credentials } from "./password.ts";
import { errorLines, isKey, type Ui } from "./ui.ts";

/** One edit of an account, offered in the detail view. */
export interface AccountEdit {
  label(account: WireObject): string;
  description: string;
  variants?: string[];
  /** Asks for the change; returns the patch, or undefined when cancelled. */
  ask(ui: Ui, account: WireObject, path: string[]): Promise<Change | undefined>;
}

/** A patch, and what to show once it is saved (a generated password). */
export interface Change {
  patch: WireObject;
  shownOnce?: string;
}

/** The edits of the detail view, in menu order. */
export const EDITS: Record<string, AccountEdit> = {
  description: {
    label: (a) => `Description: ${showValue(a.description)}`,
    description: "Display name or note",
    async ask(ui, account) {
      const text = value(
        await ui.prompts.text("Description (empty clears it)", {
          default: account.description ? String(account.description) : "",
          editable: true,
        }),
      );
      return text === undefined ? undefined : { patch: { description: text.trim() || null } };
    },
  },
  aliases: {
    label: (a) => `Aliases: ${showValue(a.aliases)}`,
    description: "Further addresses, separated by commas; each must be in an existing domain",
    async ask(ui, account) {
      const text = value(
        await ui.prompts.text("Aliases (comma-separated; empty removes all)", {
          default: wireList(account.aliases).join(", "),
          editable: true,
          validate: (v) => {
            for (const address of splitList(v)) {
              const ok = rule(addressSchema)(address);
              if (ok !== true) return ok;
            }
            return true;
          },
        }),
      );
      return text === undefined ? undefined : { patch: { aliases: splitList(text) } };
    },
  },
  quotas: {
    label: (a) => `Quotas: ${quotaSummary(a.quotas)}`,
    description: "Disk space (e.g. 10G), mailboxes, app passwords, API keys; empty means no limit",
    async ask(ui, account) {
      const current = (account.quotas ?? {}) as Record<string, number | undefined>;
      const disk = value(
        await ui.prompts.text("Disk quota (e.g. 500M, 10G; empty: no limit)", {
          default: current.maxDiskQuota === undefined ? "" : String(current.maxDiskQuota),
          editable: true,
          validate: (v) => !v.trim() || parseSize(v) !== undefined || "a size such as 10G, 500M or 1048576",
        }),
      );
      if (disk === undefined) return undefined;
      const quotas: Record<string, number> = {};
      if (disk.trim()) quotas.maxDiskQuota = parseSize(disk)!;
      for (
        const [key, label] of [
          ["maxMailboxes", "Mailboxes"],
          ["maxAppPasswords", "App passwords"],
          ["maxApiKeys", "API keys"],
        ]
      ) {
        const n = await ui.prompts.number(`${label} at most (empty: no limit)`, {
          default: current[key],
          min: 0,
        });
        if (isKey(n)) return undefined;
        if (n !== undefined) quotas[key] = n;
      }
      return { patch: { quotas } };
    },
  },
  enabled: {
    label: (a) => `Enabled: ${showValue(a.enabled !== false)}`,
    description: "A disabled account cannot log in",
    async ask(ui, account) {
      const on = value(await ui.prompts.yesNo("Enabled (can log in)?", account.enabled !== false));
      return on === undefined ? undefined : { patch: { enabled: on } };
    },
  },
  roles: {
    label: (a) => `Roles: ${showValue(a.roles)}`,
    description: "admin manages everything; user manages only itself",
    variants: ["User"],
    async ask(ui, account) {
      const current = wireList(account.roles);
      const roles = value(
        await ui.prompts.several(
          "Roles (space toggles, enter saves)",
          (ACCOUNT.fields.roles.enum ?? []).map((r) => ({ value: r, name: r, checked: current.includes(r) })),
        ),
      );
      return roles === undefined ? undefined : { patch: { roles } };
    },
  },
  groups: {
    label: (a) => `Groups: ${wireList(a.memberGroupIds).length}`,
    description: "Groups this account belongs to",
    async ask(ui, account) {
      const groups = (await ui.backend.client.query("account/group", {}))
        .filter((g) => g.id !== account.id);
      if (groups.length === 0) throw new Error("There are no groups yet: create one with + New account");
      const current = wireList(account.memberGroupIds).map(String);
      const ids = value(
        await ui.prompts.several(
          "Member of (space toggles, enter saves)",
          groups.map((g) => ({
            value: String(g.id),
            name: String(g.name),
            checked: current.includes(String(g.id)),
          })),
        ),
      );
      return ids === undefined ? undefined : { patch: { memberGroupIds: ids } };
    },
  },
  sendAs: {
    label: (a) => `Sends as groups: ${wireList(a.sendAsGroupIds).length}`,
    description: "Groups (of those it belongs to) whose addresses this user may send as",
    variants: ["User"],
    async ask(ui, account) {
      const member = wireList(account.memberGroupIds).map(String);
      const groups = (await ui.backend.client.query("account/group", {}))
        .filter((g) => member.includes(String(g.id)));
      if (groups.length === 0) throw new Error("The account belongs to no group: add it to one first");
      const current = wireList(account.sendAsGroupIds).map(String);
      const ids = value(
        await ui.prompts.several(
          "May send as (space toggles, enter saves)",
          groups.map((g) => ({
            value: String(g.id),
            name: `${g.name}  ${g.emailAddress ?? ""}`,
            checked: current.includes(String(g.id)),
          })),
        ),
      );
      return ids === undefined ? undefined : { patch: { sendAsGroupIds: ids } };
    },
  },
  name: {
    label: (a) => `Rename (now ${a.name})`,
    description: "Changes the login name and the primary address",
    async ask(ui, account) {
      const name = value(
        await ui.prompts.text("New name", {
          default: String(account.name),
          editable: true,
          validate: rule(localPartSchema),
        }),
      );
      return name === undefined ? undefined : { patch: { name } };
    },
  },
  password: {
    label: (a) => a.credentials ? "Reset password…" : "Set a password…",
    description:
      "Typed twice or generated; every token of the account stops working, app passwords only if you say so",
    variants: ["User"],
    async ask(ui, _account, path) {
      const chosen = await choosePassword(ui, path);
      if (!chosen?.secret) return undefined;
      // A routine change keeps the mail clients' app passwords; one made because of a leak revokes them.
      const revoke = await ui.prompts.yesNo(
        "Also revoke the account's app passwords (their mail clients must be set up again)?",
        false,
      );
      if (isKey(revoke)) return undefined;
      return {
        patch: { credentials: credentials(chosen.secret, revoke) },
        shownOnce: chosen.generated
          ? `New password (shown only this once, store it now): ${chosen.secret}`
          : undefined,
      };
    },
  },
  forwarding: {
    label: (a) =>
      `Forwards to: ${wireList(a.forwardTo).length ? showValue(a.forwardTo) : "(nobody)"}` +
      (a.forwardKeepCopy === false ? " (no copy kept)" : ""),
    description: "Addresses elsewhere that incoming mail is forwarded to, and whether a copy stays here",
    variants: ["User"],
    async ask(ui, account) {
      const text = value(
        await ui.prompts.text("Forward to (comma-separated; empty stops forwarding)", {
          default: wireList(account.forwardTo).join(", "),
          editable: true,
          validate: (v) => {
            for (const address of splitList(v)) {
              const ok = rule(addressSchema)(address);
              if (ok !== true) return ok;
            }
            return true;
          },
        }),
      );
      if (text === undefined) return undefined;
      const forwardTo = splitList(text);
      if (forwardTo.length === 0) return { patch: { forwardTo, forwardKeepCopy: true } };
      const keep = value(await ui.prompts.yesNo("Keep a copy here too?", account.forwardKeepCopy !== false));
      return keep === undefined ? undefined : { patch: { forwardTo, forwardKeepCopy: keep } };
    },
  },
};

/** Runs one edit from the detail view and saves it. */
export async function editAccount(ui: Ui, account: WireObject, key: string): Promise<void> {
  const edit = EDITS[key];
  const path = ["Accounts", String(account.name), edit.label(account).replace(/[:(].*$/, "").trim()];
  try {
    let change: Change | undefined;
    const saved = await askAndSave(ui, path, async (error) => {
      ui.draw(path, [edit.description, ...(error ? ["", ...errorLines(error)] : [])], FORM_KEYS);
      // After a refusal the form starts from what was typed, not from the stored account.
      return (change = await edit.ask(ui, { ...account, ...change?.patch }, path));
    }, (answer) => ui.backend.client.update("account", String(account.id), answer.patch));
    if (saved && change?.shownOnce) await ui.showDone(path, [change.shownOnce]);
  } catch (error) {
    await ui.showError(path, error);
  }
}

function splitList(text: string): string[] {
  return text.split(/[,\s]+/).map((s) => s.trim()).filter(Boolean);
}

function quotaSummary(quotas: unknown): string {
  const q = (quotas ?? {}) as Record<string, number>;
  const parts = Object.entries(q).map(([k, v]) =>
    k === "maxDiskQuota" ? formatBytes(v) : `${k.slice(3)} ${v}`
  );
  return parts.length ? parts.join(", ") : "no limits";
}
