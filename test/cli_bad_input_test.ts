/**
 * The local CLI given bad input, as a scripted install would meet it: each mistake exits non-zero with
 * a message naming what is wrong, and leaves the database exactly as it was. Commands run in-process
 * (cli_in_process.ts); a real `postern` process still answers the uninitialised directory, the global
 * options, an unknown option and a refused --json create, so exit status and streams are a process's.
 */
import assert from "node:assert/strict";
import { cliInProcess as cli } from "./cli_in_process.ts";
import { cli as cliProcess } from "./helpers.ts";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** What a script can see of the directory: accounts, domains and API keys, as JSON. */
async function snapshot(dataDir: string): Promise<unknown> {
  const [accounts, domains, apiKeys] = await Promise.all(
    ["account", "domain", "api-key"].map((type) => cli(["--data", dataDir, "query", type, "--json"])),
  );
  for (const result of [accounts, domains, apiKeys]) assert.equal(result.code, 0, result.stderr);
  return {
    accounts: JSON.parse(accounts.stdout),
    domains: JSON.parse(domains.stdout),
    apiKeys: JSON.parse(apiKeys.stdout),
  };
}

/** Runs `body` on a freshly initialised data directory with domain example.org, removed afterwards. */
async function withDataDir(body: (dataDir: string, init: Result) => Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-cli-" });
  try {
    const init = await cli(["init", "--data", dataDir, "--domain", "example.org", "--json"]);
    assert.equal(init.code, 0, init.stderr);
    await body(dataDir, init);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

/**
 * Runs a command that must fail: checks its exit code, that stderr mentions each of `mentions`, that
 * nothing went to stdout, and that the directory is unchanged afterwards.
 */
async function assertFailsChangingNothing(
  dataDir: string,
  args: string[],
  expected: { code: number | number[]; mentions: string[]; run?: typeof cli },
): Promise<Result> {
  const before = await snapshot(dataDir);
  const result = await (expected.run ?? cli)(["--data", dataDir, ...args]);
  const context = `postern ${args.join(" ")}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  const codes = Array.isArray(expected.code) ? expected.code : [expected.code];
  assert.ok(codes.includes(result.code), `exit ${result.code}, expected ${codes.join(" or ")}: ${context}`);
  for (const part of expected.mentions) {
    assert.ok(result.stderr.includes(part), `"${part}" not in ${context}`);
  }
  assert.equal(result.stdout, "", context);
  assert.doesNotMatch(result.stderr, /^\s+at /m, `a stack trace was printed: ${context}`);
  assert.deepEqual(await snapshot(dataDir), before, `the directory changed: ${context}`);
  return result;
}

const CREATE_BOB = ["create", "account/user", "--field", "domainId=b"];

Deno.test("a --field value that is not valid JSON exits 2 naming the field", async () => {
  await withDataDir(async (dataDir) => {
    await assertFailsChangingNothing(dataDir, [
      ...CREATE_BOB,
      "--field",
      "name=bob",
      "--field",
      "aliases={bad",
    ], {
      code: 2,
      mentions: ["--field aliases", "not valid JSON"],
    });
    await assertFailsChangingNothing(dataDir, ["update", "account", "b", "--field", "quotas=[1,"], {
      code: 2,
      mentions: ["--field quotas", "not valid JSON"],
    });
    const json = await assertFailsChangingNothing(
      dataDir,
      ["--json", ...CREATE_BOB, "--field", "name=bob", "--field", 'credentials={"0":'],
      { code: 2, mentions: ["--field credentials"] },
    );
    assert.equal(JSON.parse(json.stderr).error, "UsageError");
  });
});

Deno.test("SQL metacharacters in a name are refused naming the property and drop nothing", async () => {
  await withDataDir(async (dataDir) => {
    const name = "x'; DROP TABLE accounts;--";
    await assertFailsChangingNothing(dataDir, [...CREATE_BOB, "--field", `name=${name}`], {
      code: 1,
      mentions: ['"name"'],
    });
    const json = await assertFailsChangingNothing(dataDir, [
      "--json",
      ...CREATE_BOB,
      "--field",
      `name=${name}`,
    ], {
      code: 1,
      mentions: ["InvalidInputError"],
      run: cliProcess,
    });
    assert.deepEqual(JSON.parse(json.stderr).problems.map((p: { property: string }) => p.property), ["name"]);

    // Where such text is allowed, it is stored as text and the table survives.
    const created = await cli([
      "--data",
      dataDir,
      "--json",
      ...CREATE_BOB,
      "--field",
      "name=bob",
      "--field",
      `description=${name}`,
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).description, name);
    const accounts = await cli(["--data", dataDir, "query", "account", "--json"]);
    assert.deepEqual(JSON.parse(accounts.stdout).map((a: { name: string }) => a.name), ["admin", "bob"]);
    // A filter is a value too, never SQL.
    const filtered = await cli([
      "--data",
      dataDir,
      "query",
      "account",
      "--where",
      "name=x' OR '1'='1",
      "--json",
    ]);
    assert.equal(filtered.code, 0, filtered.stderr);
    assert.deepEqual(JSON.parse(filtered.stdout), []);
  });
});

Deno.test("an overlong account name is refused naming the property", async () => {
  await withDataDir(async (dataDir) => {
    await assertFailsChangingNothing(dataDir, [...CREATE_BOB, "--field", `name=${"a".repeat(200)}`], {
      code: 1,
      mentions: ['"name"', "at most 64 characters"],
    });
    await assertFailsChangingNothing(dataDir, [
      "update",
      "account",
      "b",
      "--field",
      `name=${"a".repeat(200)}`,
    ], {
      code: 1,
      mentions: ['"name"'],
    });
  });
});

Deno.test("an invalid domain name is refused", async () => {
  await withDataDir(async (dataDir) => {
    const cases: [string, string][] = [
      ["bad_domain!", "must be a domain name"],
      ["-x.org", "must be a domain name"],
      ["a..b", "must be a domain name"],
      ["x".repeat(300), "at most 253 characters"],
    ];
    for (const [name, reason] of cases) {
      await assertFailsChangingNothing(dataDir, ["create", "domain", "--field", `name=${name}`], {
        code: 1,
        mentions: ['"name"', reason],
      });
    }
    await assertFailsChangingNothing(dataDir, ["create", "domain", "--field", "name=example.org"], {
      code: 1,
      mentions: ['"example.org"', "already exists"],
    });
  });
});

Deno.test("an unknown object type is refused naming it and listing the known ones", async () => {
  await withDataDir(async (dataDir) => {
    for (
      const args of [["create", "widget", "--field", "name=x"], ["query", "widget"], ["get", "widget", "b"]]
    ) {
      await assertFailsChangingNothing(dataDir, args, {
        code: [1, 2],
        mentions: ['"widget"', "account/user"],
      });
    }
    await assertFailsChangingNothing(dataDir, ["create", "account/robot", "--field", "name=x"], {
      code: [1, 2],
      mentions: ['"robot"'],
    });
  });
});

Deno.test("an unknown property is refused naming it", async () => {
  await withDataDir(async (dataDir) => {
    await assertFailsChangingNothing(
      dataDir,
      [...CREATE_BOB, "--field", "name=bob", "--field", "colour=red"],
      {
        code: 1,
        mentions: ['"colour"'],
      },
    );
    await assertFailsChangingNothing(dataDir, ["update", "domain", "b", "--field", "owner=me"], {
      code: 1,
      mentions: ['"owner"'],
    });
    // A field of the User variant is unknown for a group.
    await assertFailsChangingNothing(dataDir, [
      "create",
      "account/group",
      "--field",
      "name=staff",
      "--field",
      "domainId=b",
      "--field",
      'roles=["admin"]',
    ], {
      code: 1,
      mentions: ['"roles"'],
    });
  });
});

Deno.test("getting an account that does not exist says so and exits 1", async () => {
  await withDataDir(async (dataDir) => {
    await assertFailsChangingNothing(dataDir, ["get", "account", "zzzz"], {
      code: 1,
      mentions: ['Account "zzzz" does not exist'],
    });
    await assertFailsChangingNothing(dataDir, ["get", "account", "not-an-id!"], {
      code: 1,
      mentions: [`Account "not-an-id!" does not exist`],
    });
    await assertFailsChangingNothing(dataDir, ["delete", "account", "zzzz"], {
      code: 1,
      mentions: ['"zzzz" does not exist'],
    });
  });
});

Deno.test("global options work before the verb as well as after it", async () => {
  await withDataDir(async (dataDir) => {
    const before = await cliProcess(["--data", dataDir, "--json", "query", "account"]);
    const after = await cliProcess(["query", "account", "--data", dataDir, "--json"]);
    assert.equal(before.code, 0, before.stderr);
    assert.equal(after.code, 0, after.stderr);
    const accounts = JSON.parse(before.stdout);
    assert.deepEqual(accounts.map((a: { emailAddress: string }) => a.emailAddress), ["admin@example.org"]);
    assert.deepEqual(JSON.parse(after.stdout), accounts);
    const table = await cliProcess(["--data", dataDir, "query", "account"]);
    assert.equal(table.code, 0, table.stderr);
    assert.ok(table.stdout.includes("admin@example.org"), table.stdout);
  });
});

Deno.test("a data directory that was never initialised is a usage error pointing at init", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-cli-empty-" });
  try {
    const result = await cliProcess(["--data", dataDir, "query", "account"]);
    assert.equal(result.code, 2, result.stderr);
    assert.ok(result.stderr.includes("postern init"), result.stderr);
    assert.deepEqual([...Deno.readDirSync(dataDir)], [], "nothing was created");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("init run again creates nothing and prints no new secret unless asked for a key", async () => {
  await withDataDir(async (dataDir, init) => {
    const first = JSON.parse(init.stdout);
    assert.equal(first.created, true);
    assert.equal(first.encryptionKeyCreated, true);
    assert.match(first.apiKey, /^pst_/);
    assert.equal(typeof first.adminPassword, "string");
    const state = await snapshot(dataDir);

    const again = await cli(["init", "--data", dataDir, "--domain", "example.org", "--json"]);
    assert.equal(again.code, 0, again.stderr);
    const second = JSON.parse(again.stdout);
    assert.equal(second.created, false);
    assert.equal(second.encryptionKeyCreated, false);
    assert.equal("apiKey" in second, false, again.stdout);
    assert.equal("adminPassword" in second, false, again.stdout);
    assert.deepEqual(second.admin, first.admin);
    assert.deepEqual(second.domain, first.domain);
    assert.deepEqual(await snapshot(dataDir), state);

    const withKey = await cli(["init", "--data", dataDir, "--new-api-key", "--json"]);
    assert.equal(withKey.code, 0, withKey.stderr);
    const third = JSON.parse(withKey.stdout);
    assert.equal(third.created, false);
    assert.match(third.apiKey, /^pst_/);
    assert.notEqual(third.apiKey, first.apiKey);
    const keys = await cli(["--data", dataDir, "query", "api-key", "--json"]);
    assert.equal(JSON.parse(keys.stdout).length, 2);
  });
});

Deno.test("deleting a domain that accounts use fails naming them and deletes nothing", async () => {
  await withDataDir(async (dataDir) => {
    const bob = await cli([
      "--data",
      dataDir,
      ...CREATE_BOB,
      "--field",
      "name=bob",
      "--field",
      'aliases=["sales@example.org"]',
    ]);
    assert.equal(bob.code, 0, bob.stderr);
    await assertFailsChangingNothing(dataDir, ["delete", "domain", "b"], {
      code: 1,
      mentions: ['domain "example.org"', "admin@example.org", "bob@example.org", "sales@example.org"],
    });
    await assertFailsChangingNothing(dataDir, ["delete", "domain", "--ids", "b"], {
      code: 1,
      mentions: ["admin@example.org"],
    });
  });
});

Deno.test("usage mistakes exit 2 and change nothing", async () => {
  await withDataDir(async (dataDir) => {
    await assertFailsChangingNothing(dataDir, ["delete", "account"], { code: 2, mentions: ["--ids"] });
    await assertFailsChangingNothing(dataDir, ["update", "account", "b"], { code: 2, mentions: ["--field"] });
    await assertFailsChangingNothing(dataDir, [...CREATE_BOB, "--field", "=bob"], {
      code: 2,
      mentions: ["name=value"],
    });
    await assertFailsChangingNothing(dataDir, ["update", "account", "b", "--field", "enabled=maybe"], {
      code: 2,
      mentions: ["--field enabled", "true or false"],
    });
    await assertFailsChangingNothing(dataDir, ["query", "account", "--no-such-option"], {
      code: 2,
      mentions: ["--no-such-option"],
      run: cliProcess,
    });
  });
});
