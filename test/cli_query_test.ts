/**
 * The object verbs the same in both modes: `query --where` finds the same objects on the database file
 * as through a server, names stand where ids go, actions are verbs, and mistakes are one line with
 * the documented exit code.
 */
import assert from "node:assert/strict";
import { cliInProcess } from "./cli_in_process.ts";
import { ADMIN_PASSWORD, cli, PASSWORD, startServerProcess } from "./helpers.ts";

type Run = (args: string[]) => ReturnType<typeof cli>;

interface Directory {
  dir: string;
  local: Run;
  remote: Run;
  /** A non-administrator's API key (alice's). */
  userKey: string;
  serverUrl: string;
}

/**
 * A data directory with a group, members and a disabled user, a server on it, and both CLIs, run
 * in-process; the server is a real process. The last two tests keep real CLI processes for what only a
 * process shows (exit status, its own output streams).
 */
async function withDirectory(body: (d: Directory) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "postern-query-" });
  try {
    const init = await cliInProcess(["init", "--data", dir, "--domain", "example.org", "--json"], {
      POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    assert.equal(init.code, 0, init.stderr);
    const local: Run = (args) => cliInProcess(["--data", dir, ...args]);
    const made = async (args: string[]) => {
      const result = await local([...args, "--json"]);
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
      return JSON.parse(result.stdout);
    };
    const password = `credentials={"0":{"@type":"Password","secret":"${PASSWORD}"}}`;
    await made(["create", "domain", "--field", "name=other.example"]);
    // Names where ids go: the domain and the group by name.
    await made(["create", "account/group", "--field", "name=staff", "--field", "domainId=example.org"]);
    await made([
      "create",
      "account/user",
      "--field",
      "name=alice",
      "--field",
      "domainId=example.org",
      "--field",
      'memberGroupIds=["staff"]',
      "--field",
      password,
    ]);
    await made(["create", "account/user", "--field", "name=bob", "--field", "domainId=other.example"]);
    await made(["update", "account", "bob", "--field", "enabled=false"]);
    const key = await made([
      "create",
      "api-key",
      "--field",
      "accountId=alice",
      "--field",
      "description=scripts",
    ]);
    const server = await startServerProcess(dir);
    try {
      const remote: Run = (args) =>
        cliInProcess([
          "--url",
          server.url,
          "--api-key",
          (JSON.parse(init.stdout) as { apiKey: string }).apiKey,
          ...args,
        ]);
      await body({ dir, local, remote, userKey: key.secret, serverUrl: server.url });
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The names a query printed (JSON), sorted. */
async function names(run: Run, args: string[]): Promise<string[]> {
  const result = await run([...args, "--json"]);
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { name?: string; description?: string }[])
    .map((o) => o.name ?? o.description ?? "").sort();
}

Deno.test("every query filter finds the same objects locally and through a server", async () => {
  await withDirectory(async ({ local, remote }) => {
    const staff = JSON.parse((await local(["get", "account", "staff", "--json"])).stdout).id as string;
    const cases: [string[], string[]][] = [
      [["query", "account", "--where", "name=alice"], ["alice"]],
      [["query", "account", "--where", "name=ALICE"], ["alice"]],
      [["query", "account", "--where", `memberOf=${staff}`], ["alice"]],
      [["query", "account", "--where", "memberOf=staff"], ["alice"]],
      [["query", "account", "--where", "domainId=other.example"], ["bob"]],
      [["query", "account", "--where", "enabled=false"], ["bob"]],
      [["query", "account", "--where", "text=ali"], ["alice"]],
      [["query", "account", "--where", "emailAddress=Alice@Example.org"], ["alice"]],
      [["query", "account/group"], ["staff"]],
      [["query", "account/user", "--where", "domainId=example.org"], ["admin", "alice"]],
      [["query", "account", "--where", "name=alice", "--where", "enabled=false"], []],
      [["query", "domain", "--where", "name=other.example"], ["other.example"]],
      [["query", "api-key", "--where", "accountId=alice"], ["scripts"]],
    ];
    for (const [args, expected] of cases) {
      const [here, there] = [await names(local, args), await names(remote, args)];
      assert.deepEqual(here, there, `${args.join(" ")}: local ${here}, remote ${there}`);
      assert.deepEqual(here, expected, args.join(" "));
    }
  });
});

Deno.test("a filter the type does not have is a usage error in both modes, naming it and the valid ones", async () => {
  await withDirectory(async ({ local, remote }) => {
    for (const run of [local, remote]) {
      for (const where of ['memberGroupIds={"0":"b"}', "nmae=alice", "memberGroupIds=b"]) {
        const result = await run(["query", "account", "--where", where]);
        assert.equal(result.code, 2, `${where}: ${result.stderr}`);
        assert.equal(result.stdout, "");
        assert.match(result.stderr, new RegExp(`no filter "${where.split("=")[0]}"`));
        assert.match(result.stderr, /filters: .*memberOf/);
        assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
      }
      const json = await run(["query", "domain", "--where", "name={}"]);
      assert.equal(json.code, 2, json.stderr);
      const nameless = await run(["query", "account", "--where", "memberOf=nobody"]);
      assert.equal(nameless.code, 1, nameless.stderr);
      assert.match(nameless.stderr, /Account "nobody" does not exist/);
    }
  });
});

Deno.test("names stand where ids go, and a failure names what was typed", async () => {
  await withDirectory(async ({ local, remote }) => {
    for (const run of [local, remote]) {
      const alice = await run(["get", "account", "alice", "--json"]);
      assert.equal(alice.code, 0, alice.stderr);
      const byAddress = await run(["get", "account", "alice@example.org", "--json"]);
      assert.equal(JSON.parse(byAddress.stdout).id, JSON.parse(alice.stdout).id);
      const domain = await run(["get", "domain", "other.example", "--json"]);
      assert.equal(JSON.parse(domain.stdout).name, "other.example");
      const missing = await run(["get", "account", "nobody"]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^postern: Account "nobody" does not exist\n$/);
      const refused = await run(["update", "account", "alice", "--field", "name=a b"]);
      assert.equal(refused.code, 1);
      assert.doesNotMatch(refused.stderr, new RegExp(`"${JSON.parse(alice.stdout).id}"`));
      const noDomain = await run([
        "create",
        "account/user",
        "--field",
        "name=x",
        "--field",
        "domainId=nowhere.example",
      ]);
      assert.equal(noDomain.code, 1);
      assert.match(noDomain.stderr, /Domain "nowhere\.example" does not exist/);
    }
  });
});

Deno.test("actions are CLI verbs locally and for administrators over a server; others are refused", async () => {
  await withDirectory(async ({ local, remote, userKey, serverUrl }) => {
    const listed = await local(["action", "--json"]);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { action: string }[]).map((a) => a.action),
      ["invalidate-caches", "invalidate-negative-caches", "rotate-signing-key"],
    );
    for (const run of [local, remote]) {
      const dropped = await run(["action", "invalidate-caches"]);
      assert.equal(dropped.code, 0, dropped.stderr);
      assert.match(dropped.stdout, /Dropped every cache entry/);
      const rotated = await run(["action", "RotateSigningKey"]);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /New signing key/);
      const unknown = await run(["action", "reboot"]);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /Unknown action "reboot"; actions: invalidate-caches/);
    }
    const user = await cli(["--url", serverUrl, "--api-key", userKey, "action", "invalidate-caches"]);
    assert.equal(user.code, 1, user.stderr);
    assert.match(user.stderr, /Only an administrator can run actions/);
    assert.doesNotMatch(user.stderr, /^\s+at /m);
    const stranger = await cli(["--url", serverUrl, "--api-key", "pst_wrong", "action", "invalidate-caches"]);
    assert.equal(stranger.code, 1, stranger.stderr);
    assert.match(stranger.stderr, /refused the credentials/);
  });
});

Deno.test("ordinary failures are one line with their exit code; output off a terminal has no colour", async () => {
  await withDirectory(async ({ dir, local }) => {
    const unreachable = await cli(["--url", "http://127.0.0.1:9", "--api-key", "k", "query", "account"]);
    assert.equal(unreachable.code, 3, unreachable.stderr);
    assert.match(unreachable.stderr, /^postern: Cannot reach http:\/\/127\.0\.0\.1:9: .*\n$/);
    const unknownType = await local(["get", "mailboxes", "b"]);
    assert.equal(unknownType.code, 2);
    assert.equal(unknownType.stderr.trim().split("\n").length, 1, unknownType.stderr);
    const invalid = await local([
      "create",
      "account/user",
      "--field",
      "name=zed",
      "--field",
      "domainId=b",
      "--field",
      "locale=1",
    ]);
    assert.equal(invalid.code, 1);
    assert.equal(invalid.stderr.trim().split("\n").length, 1, `printed more than once: ${invalid.stderr}`);
    const missing = await cli(["--data", `${dir}/nothing-here`, "query", "account"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^postern: No Postern database at .*\n$/);
    // Colour is for a person at a terminal: none in a pipe even when NO_COLOR is not set (empty).
    for (const args of [["query", "account"], ["describe"], ["action"]]) {
      const piped = await cli(["--data", dir, ...args], { NO_COLOR: "" });
      assert.equal(piped.code, 0, piped.stderr);
      assert.ok(!piped.stdout.includes("\x1b["), `colour codes in ${args.join(" ")}`);
    }
    // describe fits 100 columns, for the type list and every type's fields.
    const types = JSON.parse((await local(["describe", "--json"])).stdout) as { name: string }[];
    for (const type of ["", ...types.map((t) => t.name)]) {
      const described = await local(["describe", ...(type ? [type] : [])]);
      assert.equal(described.code, 0, `${type}: ${described.stderr}`);
      const widest = Math.max(...described.stdout.split("\n").map((l) => l.length));
      assert.ok(widest <= 100, `describe ${type}: a line of ${widest} columns`);
    }
  });
});
