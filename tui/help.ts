/** The `?` screen: the keys, what the current screen does, and the CLI commands for the same tasks. */
import type { Ui } from "./ui.ts";

/** A screen's help: what it does and the CLI commands that do the same. */
export interface HelpTopic {
  title: string;
  lines: string[];
  commands: string[];
}

const KEYS = [
  "↑↓ or k/j move · PgUp/PgDn a page · Home/End · enter select · q or esc back · ? this help",
  "On Home: q quits, esc asks first. Ctrl+C quits from anywhere, back to the terminal as it was.",
  "Lists: / search as you type · n new. Forms: enter keeps the value shown, esc cancels;",
  "a refused answer is asked again alone, the others kept.",
];

/** Shows the help of a screen until a key is pressed. */
export async function showHelp(ui: Ui, topic: HelpTopic): Promise<void> {
  const target = ui.backend.mode === "local"
    ? `--data ${ui.backend.location}`
    : `--url ${ui.backend.location}`;
  ui.draw(["Help", topic.title], [
    ...KEYS,
    "",
    ...topic.lines,
    "",
    "The same from a script:",
    ...topic.commands.map((c) => `  postern ${target} ${c}`),
  ]);
  await ui.pause("Back");
}

/** Help of each screen. */
export const HELP: Record<string, HelpTopic> = {
  home: {
    title: "Home",
    lines: [
      "The dashboard counts the directory's objects and shows the database or the server. " +
      "Local mode (--data) works on the database file, safely while the server runs: the server " +
      "sees every change at its next request. Remote mode (--url) works over JMAP.",
    ],
    commands: ["query account", "query domain", "cache stats", "--help"],
  },
  accounts: {
    title: "Accounts",
    lines: [
      "Lists users and groups. Open one to see its addresses, groups, quotas and roles, to edit it, " +
      "reset its password or delete it (the confirmation lists what the delete removes).",
    ],
    commands: [
      "query account --where text=WORD",
      "get account ID",
      "create account/user --field name=NAME --field domainId=ID",
      "update account ID --field description=TEXT",
      "delete account ID",
    ],
  },
  domains: {
    title: "Domains",
    lines: [
      "Mail domains. A domain still used by accounts or addresses cannot be deleted. A domain's view " +
      "shows the DNS records it needs (c there looks them up and says which are missing or wrong) and " +
      "sets its catch-all (the address that gets mail for unknown addresses of the domain).",
    ],
    commands: [
      "query domain",
      "create domain --field name=example.org",
      "dns example.org",
      "dns check example.org --dns-server 192.0.2.53",
      "update domain ID --field catchAll=postmaster@example.org",
      "update domain ID --field mtaStsMode=enforce",
      "delete domain ID",
    ],
  },
  groups: {
    title: "Groups",
    lines: [
      "Groups are accounts whose mailboxes their members share. Add or remove members here (it changes " +
      "each member's groups); the group's own view edits its description, aliases, quotas and name. " +
      "Who may send as it lets chosen user members send from the group's addresses (their sendAsGroupIds).",
    ],
    commands: [
      "query account/group",
      "create account/group --field name=NAME --field domainId=ID",
      "update account MEMBER_ID --field 'memberGroupIds=[\"GROUP_ID\"]'",
      "update account MEMBER_ID --field 'sendAsGroupIds=[\"GROUP_ID\"]'",
    ],
  },
  clients: {
    title: "OAuth clients",
    lines: [
      "Applications that sign users in through OAuth 2.0 / OpenID Connect. A confidential client's " +
      "secret is shown once, when it is created, and stored hashed. Deleting a client ends its grants " +
      "and tokens at once. Only administrators register and change clients; no two share a name. A " +
      "client skips the consent page (requireConsent no) or gets urn:postern:admin only while its " +
      "owner, if it has one, is an administrator.",
    ],
    commands: [
      "query oauth-client",
      "create oauth-client/confidential --field name=NAME --field 'redirectUris=[\"https://…\"]'",
      "update oauth-client ID --field 'scopes=[\"openid\"]'",
      "delete oauth-client ID",
    ],
  },
  keys: {
    title: "API keys and app passwords",
    lines: [
      "Credentials the server generates for an account: API keys for scripts (Bearer), app passwords for " +
      "mail clients (Basic). The secret is shown once, when it is created, and stored as a keyed hash; " +
      "delete one to stop it at once without touching the account's password.",
    ],
    commands: [
      "query api-key --where accountId=ID",
      "create api-key --field accountId=ID --field description=TEXT",
      "create app-password --field accountId=ID --field description=TEXT",
      "delete api-key ID",
    ],
  },
  queue: {
    title: "Queue",
    lines: [
      "Outgoing mail waits here until each recipient's server has taken it. deferred: a recipient had a " +
      "temporary failure and waits for its next attempt; queued: not tried yet. Retry now makes the next " +
      "attempt now. Cancel stops delivery (no bounce; the sender's EmailSubmission shows it was not " +
      "delivered). Delete drops the message silently, as Postfix's postsuper -d.",
    ],
    commands: [
      "queue list --state deferred",
      "queue show ID",
      "queue retry ID (or --all)",
      "queue cancel ID",
      "queue delete ID",
    ],
  },
  grants: {
    title: "OAuth grants",
    lines: [
      "Each grant is one sign-in of an account at an OAuth client, with the scopes it was given and the " +
      "tokens it issued. Revoking a grant ends its access and refresh tokens at the next request, in " +
      "every process; the client must send the user through sign-in again. Grants are made only by " +
      "signing in, and a password change ends all of the account's.",
    ],
    commands: ["query oauth-grant --where accountId=ID", "get oauth-grant ID", "delete oauth-grant ID"],
  },
  sharing: {
    title: "Sharing",
    lines: [
      "A mailbox grant gives an account, or every member of a group, rights on another account's mailbox: " +
      "read, add and remove messages, mark read, flag, create folders, rename, delete, send as, share. " +
      "Owners make grants in their mail client (JMAP Mailbox/set shareWith); here they are read and " +
      "removed. A removed grant ends at the grantee's next request, and the grantee is notified.",
    ],
    commands: [
      "query mailbox-grant --where ownerId=ID",
      "query mailbox-grant --where granteeId=ID",
      "delete mailbox-grant ID",
    ],
  },
  settings: {
    title: "Settings",
    lines: [
      "Each settings object is a form generated from the server's schema: every field with its " +
      "type, current value and default. A change is saved at once; a refused value shows why.",
    ],
    commands: ["describe cache", "get cache singleton", "update cache singleton --field ttlSeconds=600"],
  },
  actions: {
    title: "Actions",
    lines: [
      "Cache invalidations reach every process. The database check (local mode) runs SQLite's " +
      "integrity check and finds rows that point at missing objects; repair removes them.",
    ],
    commands: ["db check", "db check --repair"],
  },
};
