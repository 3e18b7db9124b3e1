/**
 * The accounts screen in a real pseudo-terminal (tmux), on the database of a running server: an account
 * created in the UI logs in on the server's very next request (the negative-cache report, through the UI),
 * edits reach the database, and the delete confirmation lists the cascade and cancels cleanly.
 */
import assert from "node:assert/strict";
import { basic, cli, PASSWORD, until } from "./helpers.ts";
import { HAS_TMUX, TuiSession, withTuiAndServer, withTuiOnNewDatabase } from "./tui_helpers.ts";

async function login(url: string, user: string, password: string): Promise<number> {
  const response = await fetch(`${url}/api/account`, { headers: { authorization: basic(user, password) } });
  await response.body?.cancel();
  return response.status;
}

async function account(dataDir: string, name: string): Promise<Record<string, unknown> | undefined> {
  const result = await cli(["--data", dataDir, "query", "account", "--where", `name=${name}`, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout)[0];
}

/** From the home screen: Accounts, then + New account, a user named `name` with PASSWORD typed twice. */
async function createUser(tui: TuiSession, name: string): Promise<void> {
  await tui.waitFor("? Go to");
  await tui.keys("Enter");
  await fillNewUser(tui, name, "Tess Tester");
  await tui.waitFor(new RegExp(`Created user ${name}@example\\.org[\\s\\S]*❯ OK`));
}

/** On the accounts screen: + New account, a user `name` described as `description`, PASSWORD twice. */
async function fillNewUser(tui: TuiSession, name: string, description: string): Promise<void> {
  await tui.waitFor("+ New account");
  await tui.keys("n");
  await tui.waitFor("? Type");
  await tui.keys("Enter");
  await tui.waitFor("? Name");
  await tui.type(name);
  await tui.keys("Enter");
  await tui.waitFor("? Description");
  await tui.type(description);
  await tui.keys("Enter");
  await tui.waitFor("? Role");
  await tui.keys("Enter");
  await tui.waitFor("? Password");
  await tui.keys("Enter");
  await tui.waitFor("? Password (at least");
  await tui.type(PASSWORD);
  await tui.keys("Enter");
  await tui.waitFor("? Again, to confirm");
  await tui.type(PASSWORD);
  await tui.keys("Enter");
}

Deno.test({
  name: "an account created in the admin UI on a running server's database logs in on the next request",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiAndServer((server) => ["--data", server.dataDir, "tui"], async (tui, server) => {
      // The report's existence check: a failed login stores a negative entry for "tess".
      assert.equal(await login(server.url, "tess@example.org", PASSWORD), 401);
      const home = await tui.waitFor("? Go to");
      assert.match(home, /Accounts +1 user · 0 groups · 1 domain/);
      assert.match(home, /Database +[\d.]+ (?:KiB|MiB) .* invalidation log at #\d+/);
      assert.match(home, /Mail +6 mailboxes · 0 messages/);
      // The server on this database answers over loopback: its health and counters are shown.
      assert.match(home, new RegExp(`Server +reachable at ${server.url.replaceAll(".", "\\.")}`));
      // Its listeners, as /healthz lists them.
      assert.match(home, new RegExp(`Listeners +HTTP ${new URL(server.url).host.replaceAll(".", "\\.")}`));
      assert.match(home, /Cache hits +\S+ \d+%/);
      await createUser(tui, "tess");
      // The very next request, no sleep: the server applied the UI's invalidation.
      assert.equal(await login(server.url, "tess@example.org", PASSWORD), 200);
      assert.equal(await login(server.url, "tess", PASSWORD), 200);
      const stored = await account(server.dataDir, "tess");
      assert.equal(stored?.description, "Tess Tester");
      assert.deepEqual(stored?.roles, { "0": "user" });

      // Back home, the dashboard counts the new user and the failed login the server saw above.
      await tui.keys("Enter");
      await tui.waitFor("tess  User");
      await tui.keys("q");
      const after = await tui.waitFor("? Go to");
      assert.match(after, /Accounts +2 users · 0 groups · 1 domain/);
      assert.match(after, /Mail +12 mailboxes · 0 messages/);
      assert.match(after, /Failed logins +1 in the last hour/);
    }),
});

Deno.test({
  name:
    "accounts screen: edits reach the database; cancelling the delete keeps everything; deleting lists the cascade",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui, dataDir) => {
      assert.match(await tui.waitFor("? Go to"), /Server +none running on this database/);
      await createUser(tui, "tess");
      await tui.keys("Enter");
      // Search as you type, then open the account from the results.
      await tui.waitFor("+ New account");
      await tui.keys("/");
      await tui.waitFor("? Search");
      await tui.type("tes");
      await tui.waitFor(/tess +User +tess@example.org/);
      await tui.keys("Enter");
      let screen = await tui.waitFor("? Account");
      assert.match(screen, /Addresses +tess@example.org/);
      assert.match(screen, /Password +set/);

      // Description: the prompt starts from the current text.
      await tui.keys("Enter");
      await tui.waitFor("? Description (empty clears it) Tess Tester");
      await tui.keys("C-u");
      await tui.type("Tess T. Tester");
      await tui.keys("Enter");
      await tui.waitFor(/Description +Tess T\. Tester[\s\S]*\? Account/);

      // Aliases: a refused alias shows the object layer's words, then a good one is saved.
      await tui.keys("Down", "Enter");
      await tui.waitFor("? Aliases");
      await tui.type("tt@example.org, tt@nowhere.example");
      await tui.keys("Enter");
      screen = await tui.waitFor(/domain "nowhere\.example" does not exist[\s\S]*\? Aliases/);
      await tui.keys("C-u");
      await tui.type("tt@example.org");
      await tui.keys("Enter");
      await tui.waitFor(/Addresses +tess@example\.org, tt@example\.org[\s\S]*\? Account/);

      // Quotas: disk in words, then the three counts (blank keeps no limit).
      await tui.keys("Down", "Enter");
      await tui.waitFor("? Disk quota");
      await tui.type("10G");
      await tui.keys("Enter");
      await tui.waitFor("? Mailboxes at most");
      await tui.type("50");
      await tui.keys("Enter");
      await tui.waitFor("? App passwords at most");
      await tui.keys("Enter");
      await tui.waitFor("? API keys at most");
      await tui.keys("Enter");
      await tui.waitFor(/Quotas +mailboxes 6 of 50 · disk 0 B of 10 GiB in 0 messages[\s\S]*\? Account/);

      // Disable.
      await tui.keys("Down", "Enter");
      await tui.waitFor("? Enabled (can log in)?");
      await tui.type("n");
      await tui.keys("Enter");
      await tui.waitFor(/Enabled +no[\s\S]*\? Account/);

      let stored = await account(dataDir, "tess");
      assert.equal(stored?.description, "Tess T. Tester");
      assert.deepEqual(stored?.aliases, { "0": "tt@example.org" });
      assert.deepEqual(stored?.quotas, { maxDiskQuota: 10 * 1024 ** 3, maxMailboxes: 50 });
      assert.equal(stored?.enabled, false);

      // Delete, answered no: the confirmation lists the cascade, and nothing changes.
      await tui.choose("Delete…");
      screen = await tui.waitFor("? Delete tess and everything listed?");
      assert.match(screen, /2 addresses/);
      assert.match(screen, /1 credentials/);
      assert.match(screen, /6 mailboxes\n/);
      assert.match(screen, /0 messages/);
      assert.match(screen, /sharing grants/);
      assert.match(screen, /0 OAuth grants, with their access and refresh tokens/);
      await tui.keys("Enter");
      await tui.waitFor("? Account");
      assert.deepEqual(await account(dataDir, "tess"), stored);

      // Esc on the confirmation cancels too.
      await tui.keys("Enter");
      await tui.waitFor("? Delete tess and everything listed?");
      await tui.keys("Escape");
      await tui.waitFor("? Account");
      assert.deepEqual(await account(dataDir, "tess"), stored);

      // Yes: deleted, with what went with it.
      await tui.keys("Enter");
      await tui.waitFor("? Delete tess and everything listed?");
      await tui.type("y");
      await tui.keys("Enter");
      screen = await tui.waitFor(/Deleted tess\.[\s\S]*❯ OK/);
      assert.match(screen, /6 mailboxes/);
      stored = await account(dataDir, "tess");
      assert.equal(stored, undefined);

      // Back to the list, and q back home, and q quits.
      await tui.keys("Enter");
      await tui.waitFor("+ New account");
      await tui.keys("q");
      await tui.waitFor("? Go to");
      await tui.keys("q");
      await until(() => tui.exited(), "the UI to exit on q");
    }),
});

Deno.test({
  name: "a new account whose name is taken asks only the name again and keeps the other answers",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui, dataDir) => {
      await createUser(tui, "tess");
      await tui.keys("Enter");
      await fillNewUser(tui, "tess", "Second of that name");
      // Refused (the address is taken): the name alone comes back, nothing before or after it.
      const refused = await tui.waitFor(/tess[\s\S]*\? Name/);
      assert.doesNotMatch(refused, /\? Type/);
      await tui.type("tina");
      await tui.keys("Enter");
      await tui.waitFor(/Created user tina@example\.org[\s\S]*❯ OK/);
      const stored = await account(dataDir, "tina");
      assert.equal(stored?.description, "Second of that name", "the description typed before was kept");
      assert.deepEqual(stored?.roles, { "0": "user" });
    }),
});
