/**
 * The right to send as a group from the CLI, as a scripted install gives it: `update account … --field
 * sendAsGroupIds=[…]` with the group's name where its id goes, locally on the database file and
 * through a server with the administrator's key; a user's key is refused (exit 1, forbidden), and a
 * group the account does not belong to exits 1 naming the field, changing nothing. The CLI runs
 * in-process (cli_in_process.ts); the server is a real process.
 */
import assert from "node:assert/strict";
import { cliInProcess as cli } from "./cli_in_process.ts";
import { ADMIN_PASSWORD, startServerProcess } from "./helpers.ts";

/** The sendAsGroupIds of an account as the CLI prints them (JSON), as a list. */
async function sendAs(run: (args: string[]) => ReturnType<typeof cli>, name: string): Promise<string[]> {
  const result = await run(["get", "account", name, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return Object.values(JSON.parse(result.stdout).sendAsGroupIds ?? {}) as string[];
}

Deno.test("the CLI gives and takes the right to send as a group, locally and remotely, admins only", async () => {
  const dir = await Deno.makeTempDir({ prefix: "postern-cli-send-as-" });
  try {
    const init = await cli(["init", "--data", dir, "--domain", "example.org", "--json"], {
      POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    assert.equal(init.code, 0, init.stderr);
    const local = (args: string[]) => cli(["--data", dir, ...args]);
    const ok = async (args: string[]) => {
      const result = await local([...args, "--json"]);
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
      return JSON.parse(result.stdout);
    };
    const staff =
      (await ok(["create", "account/group", "--field", "name=staff", "--field", "domainId=example.org"]))
        .id as string;
    await ok([
      "create",
      "account/user",
      "--field",
      "name=alice",
      "--field",
      "domainId=example.org",
      "--field",
      'memberGroupIds=["staff"]',
    ]);
    await ok(["create", "account/user", "--field", "name=bob", "--field", "domainId=example.org"]);
    const aliceKey =
      (await ok(["create", "api-key", "--field", "accountId=alice", "--field", "description=x"]))
        .secret as string;

    // Locally: given by the group's name, read back as its id; taken away again.
    await ok(["update", "account", "alice", "--field", 'sendAsGroupIds=["staff"]']);
    assert.deepEqual(await sendAs(local, "alice"), [staff]);
    await ok(["update", "account", "alice", "--field", "sendAsGroupIds=[]"]);
    assert.deepEqual(await sendAs(local, "alice"), []);

    // Bob is no member: exit 1 naming the field, nothing changed.
    const refused = await local(["update", "account", "bob", "--field", 'sendAsGroupIds=["staff"]']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /sendAsGroupIds/);
    assert.doesNotMatch(refused.stderr, /^\s+at /m);
    assert.deepEqual(await sendAs(local, "bob"), []);

    const server = await startServerProcess(dir);
    try {
      const remote = (key: string) => (args: string[]) =>
        cli(["--url", server.url, "--api-key", key, ...args]);
      const admin = remote((JSON.parse(init.stdout) as { apiKey: string }).apiKey);
      const given = await admin(["update", "account", "alice", "--field", `sendAsGroupIds=["${staff}"]`]);
      assert.equal(given.code, 0, given.stderr);
      assert.deepEqual(await sendAs(admin, "alice"), [staff]);
      // Alice's own key cannot take it away (nor give it): forbidden.
      const own = await remote(aliceKey)(["update", "account", "alice", "--field", "sendAsGroupIds=[]"]);
      assert.equal(own.code, 1, own.stderr);
      assert.match(own.stderr, /administrator/);
      assert.deepEqual(await sendAs(admin, "alice"), [staff]);
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
