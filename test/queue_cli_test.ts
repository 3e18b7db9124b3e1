/**
 * `postern queue` on the database file and on a server (--url): list with filters, show, retry,
 * cancel and delete, in tables and JSON. Bad input: an unknown state (exit 2), a retry with neither
 * an id nor --all (exit 2), unknown ids (exit 1, named); a user's API key is refused (exit 1). The CLI
 * runs in-process; the list table and a usage mistake come from a real `postern` process.
 */
import assert from "node:assert/strict";
import { cliInProcess } from "./cli_in_process.ts";
import { cli, startServerProcess, withTempDir } from "./helpers.ts";
import { seedQueueAt } from "./queue_admin_helpers.ts";

type Obj = Record<string, unknown>;

const json = (result: { code: number; stdout: string; stderr: string }) => {
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
};

Deno.test("postern queue lists, shows, retries, cancels and deletes on the database file", async () => {
  await withTempDir("postern-queue-cli-", async (dir) => {
    assert.equal((await cliInProcess(["--data", dir, "init", "--domain", "example.org"])).code, 0);
    const seeded = await seedQueueAt(dir);
    const run = (...args: string[]) => cliInProcess(["--data", dir, ...args]);

    const all = json(await run("--json", "queue", "list")) as Obj[];
    assert.deepEqual(all.map((m) => m.id).sort(), [seeded.deferred, seeded.queued, seeded.failed].sort());
    const table = await cli(["--data", dir, "queue", "list"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /deferred[^\n]*alice@example\.org[^\n]*remote\.example/);
    assert.match(table.stdout, /failed[^\n]*<>[^\n]*faraway\.example/);
    assert.match(table.stdout, /\b1h\b/, "the age column");
    assert.deepEqual(
      (json(await run("--json", "queue", "list", "--state", "deferred")) as Obj[]).map((m) => m.id),
      [seeded.deferred],
    );
    assert.deepEqual(
      (json(await run("--json", "queue", "list", "--domain", "other.example")) as Obj[]).map((m) => m.id),
      [seeded.queued],
    );

    const shown = await run("queue", "show", seeded.deferred);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /bob@remote\.example[^\n]*deferred[^\n]*451 4\.3\.0 Try later/);
    assert.match(shown.stdout, /carol@remote\.example[^\n]*delivered/);

    assert.deepEqual(json(await run("--json", "queue", "retry", seeded.deferred)), { retried: 1 });
    const bob = (Object.values(
      (json(await run("--json", "queue", "show", seeded.deferred)) as Obj).recipients as Obj,
    ) as Obj[])
      .find((r) => r.address === "bob@remote.example")!;
    assert.ok(Date.parse(String(bob.nextAttemptAt)) <= Date.now(), String(bob.nextAttemptAt));
    const retryAll = await run("queue", "retry", "--all");
    assert.equal(retryAll.code, 0, retryAll.stderr);
    assert.match(retryAll.stdout, /1 deferred recipient\(s\) will be tried now/);

    const canceled = await run("queue", "cancel", seeded.queued);
    assert.equal(canceled.code, 0, canceled.stderr);
    assert.match(canceled.stdout, /Canceled 1 recipient\(s\) of queued message/);
    assert.equal((json(await run("--json", "queue", "show", seeded.queued)) as Obj).state, "canceled");
    const deleted = await run("queue", "delete", seeded.failed);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, new RegExp(`Deleted queued message ${seeded.failed}`));
    assert.equal((json(await run("--json", "queue", "list")) as Obj[]).length, 2);

    const badState = await run("queue", "list", "--state", "stuck");
    assert.equal(badState.code, 2);
    assert.match(
      badState.stderr,
      /--state "stuck": states are deferred, queued, failed, canceled, delivered/,
    );
    assert.equal((await run("queue", "retry")).code, 2, "neither an id nor --all");
    assert.equal((await run("queue", "retry", seeded.deferred, "--all")).code, 2, "both");
    for (const verb of ["show", "cancel", "delete", "retry"]) {
      const unknown = await run("queue", verb, "zzz9");
      assert.equal(unknown.code, 1, `${verb}: ${unknown.stderr}`);
      assert.match(unknown.stderr, /zzz9/, verb);
      assert.doesNotMatch(unknown.stderr, /^\s+at /m, verb);
    }
    assert.equal((await cli(["--data", dir, "queue", "show", "not/an/id"])).code, 2);
  });
});

Deno.test("postern queue works over --url for an administrator and refuses a user's key", async () => {
  await withTempDir("postern-queue-remote-", async (dir) => {
    const init = json(
      await cliInProcess(["--data", dir, "--json", "init", "--domain", "example.org"]),
    ) as Obj;
    const user = json(
      await cliInProcess([
        "--data",
        dir,
        "--json",
        "create",
        "account/user",
        "--field",
        "name=alice",
        "--field",
        "domainId=example.org",
      ]),
    ) as Obj;
    const key = json(
      await cliInProcess([
        "--data",
        dir,
        "--json",
        "create",
        "api-key",
        "--field",
        `accountId=${user.id}`,
        "--field",
        "description=scripts",
      ]),
    ) as Obj;
    // The server's worker runs: the route it finds has no server (smarthost, none set), so what it
    // tries is deferred with a 451, never delivered or failed under the test's feet.
    const route = await cliInProcess([
      "--data",
      dir,
      "update",
      "outbound",
      "singleton",
      "--field",
      "route=smarthost",
    ]);
    assert.equal(route.code, 0, route.stderr);
    const server = await startServerProcess(dir);
    try {
      const seeded = await seedQueueAt(dir);
      const admin = (...args: string[]) =>
        cliInProcess(["--url", server.url, "--api-key", String(init.apiKey), ...args]);
      const listed = json(await admin("--json", "queue", "list", "--state", "failed")) as Obj[];
      assert.deepEqual(listed.map((m) => m.id), [seeded.failed]);
      // The server's worker is running: bob waits an hour (untouched), dave may be tried meanwhile.
      assert.deepEqual(json(await admin("--json", "queue", "cancel", seeded.deferred)), { canceled: 1 });
      const retried = json(await admin("--json", "queue", "retry", "--all")) as Obj;
      assert.equal(typeof retried.retried, "number");
      assert.equal((await admin("queue", "delete", seeded.deferred)).code, 0);
      const unknown = await admin("queue", "cancel", "zzz9");
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /zzz9/);

      const alice = (...args: string[]) =>
        cliInProcess(["--url", server.url, "--api-key", String(key.secret), ...args]);
      for (
        const args of [["queue", "list"], ["queue", "show", seeded.queued], ["queue", "retry", "--all"], [
          "queue",
          "cancel",
          seeded.queued,
        ], ["queue", "delete", seeded.queued]]
      ) {
        const refused = await alice(...args);
        assert.equal(refused.code, 1, `${args.join(" ")}: ${refused.stdout}`);
        assert.match(refused.stderr, /administrators|forbidden|[Oo]nly an administrator/, args.join(" "));
      }
      const untouched = (json(await admin("--json", "queue", "show", seeded.queued)) as Obj).state;
      // Still there and not canceled by alice (the server's worker may have tried it by MX meanwhile).
      assert.ok(untouched !== "canceled", String(untouched));
    } finally {
      await server.stop();
    }
  });
});
