/**
 * `apply` and `snapshot`: plans run locally or through a server, dry runs write nothing. The CLI runs
 * in-process; the --user test keeps real CLI processes (exit status, no terminal to ask a password on).
 */
import assert from "node:assert/strict";
import { cliInProcess } from "./cli_in_process.ts";
import { ADMIN_PASSWORD, basic, cli, PASSWORD, startServerProcess, startTestApp } from "./helpers.ts";
import { applyText, withInit } from "./cli_plan_helpers.ts";

const PLAN = [
  `{"op":"create","type":"domain","ref":"d","fields":{"name":"plan.example"}}`,
  `{"op":"create","type":"account/group","ref":"g","fields":{"name":"staff","domainId":"#d"}}`,
  `{"op":"create","type":"account/user","ref":"u","fields":{"name":"pat","domainId":"#d","memberGroupIds":{"0":"#g"},` +
  `"credentials":{"0":{"@type":"Password","secret":"${PASSWORD}"}}}}`,
  `{"op":"update","type":"account","id":"#u","fields":{"quotas/maxDiskQuota":1000}}`,
  `{"op":"update","type":"cache","id":"singleton","fields":{"ttlSeconds":60}}`,
].join("\n");

Deno.test("a plan applied locally creates, references and updates objects in order", async () => {
  await withInit(async (dir) => {
    const result = await applyText(["--data", dir], PLAN);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 5);
    assert.ok(lines.every((l) => l.ok));
    const pat = JSON.parse(
      (await cliInProcess(["--data", dir, "--json", "get", "account", lines[2].id])).stdout,
    );
    assert.equal(pat.emailAddress, "pat@plan.example");
    assert.deepEqual(pat.quotas, { maxDiskQuota: 1000 });
    assert.deepEqual(Object.values(pat.memberGroupIds), [lines[1].id]);
  });
});

Deno.test("a dry run reports every invalid line and writes nothing", async () => {
  await withInit(async (dir) => {
    const before = (await cliInProcess(["--data", dir, "--json", "query", "account"])).stdout;
    const plan = PLAN + `\n{"op":"create","type":"domain","fields":{"name":"bad_domain!"}}`;
    const file = await Deno.makeTempFile();
    await Deno.writeTextFile(file, plan);
    const result = await cli(["--data", dir, "apply", file, "--dry-run", "--json"]);
    await Deno.remove(file);
    assert.equal(result.code, 1);
    const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.ok), [true, true, true, true, true, false]);
    assert.match(lines[5].error, /name/);
    assert.equal((await cliInProcess(["--data", dir, "--json", "query", "account"])).stdout, before);
  });
});

Deno.test("apply stops at the first failure unless told to continue", async () => {
  await withInit(async (dir) => {
    const plan = [
      `{"op":"create","type":"domain","fields":{"name":"example.org"}}`,
      `{"op":"create","type":"domain","fields":{"name":"second.example"}}`,
    ].join("\n");
    const stopped = await applyText(["--data", dir], plan);
    assert.equal(stopped.code, 1);
    assert.equal(stopped.stdout.trim().split("\n").length, 1, "the second line was not run");
    const domains = JSON.parse((await cliInProcess(["--data", dir, "--json", "query", "domain"])).stdout);
    assert.deepEqual(domains.map((d: { name: string }) => d.name), ["example.org"]);

    const file = await Deno.makeTempFile();
    await Deno.writeTextFile(file, plan);
    const continued = await cliInProcess(["--data", dir, "apply", file, "--continue-on-error", "--json"]);
    await Deno.remove(file);
    assert.equal(continued.code, 1);
    const after = JSON.parse((await cliInProcess(["--data", dir, "--json", "query", "domain"])).stdout);
    assert.deepEqual(after.map((d: { name: string }) => d.name), ["example.org", "second.example"]);
  });
});

Deno.test("a local snapshot applied to a new server through --url recreates accounts that log in", async () => {
  await withInit(async (source) => {
    assert.equal((await applyText(["--data", source], PLAN)).code, 0);
    const snapshot = await cliInProcess(["--data", source, "snapshot", "domain", "account"]);
    assert.equal(snapshot.code, 0, snapshot.stderr);
    assert.match(snapshot.stdout, /\$argon2id\$/, "local snapshots carry password hashes");

    await withInit(async (target, { apiKey }) => {
      const server = await startServerProcess(target);
      try {
        // The target already has its own example.org and admin: the snapshot matches them by name.
        const file = await Deno.makeTempFile();
        await Deno.writeTextFile(file, snapshot.stdout);
        const continued = await cliInProcess([
          "--url",
          server.url,
          "--api-key",
          apiKey,
          "apply",
          file,
          "--continue-on-error",
          "--json",
        ]);
        await Deno.remove(file);
        const outcomes = continued.stdout.trim().split("\n").map((l) => JSON.parse(l));
        const pat = outcomes.find((o) => o.type === "account/user" && o.ok);
        assert.ok(pat, continued.stdout);
        const response = await fetch(`${server.url}/api/account`, {
          headers: { authorization: basic("pat@plan.example", PASSWORD) },
        });
        assert.equal(response.status, 200);
        await response.body?.cancel();
      } finally {
        await server.stop();
      }
    });
  });
});

Deno.test("--user with POSTERN_PASSWORD logs in; a wrong password is an error naming the server, exit 1", async () => {
  const t = await startTestApp();
  const server = await startServerProcess(t.dataDir).catch(async (e) => {
    await t.close();
    throw e;
  });
  try {
    const ok = await cli(["--url", server.url, "--user", "admin@example.org", "--json", "query", "domain"], {
      POSTERN_PASSWORD: ADMIN_PASSWORD,
    });
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await cli(["--url", server.url, "--user", "admin@example.org", "query", "domain"], {
      POSTERN_PASSWORD: "wrong",
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /refused the credentials/);
    const noPassword = await cli(["--url", server.url, "--user", "admin@example.org", "query", "domain"]);
    assert.equal(noPassword.code, 2, "no terminal to ask on: a usage error, never a hang");
  } finally {
    await server.stop();
    await t.close();
  }
});
