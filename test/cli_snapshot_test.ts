/**
 * `snapshot` then `apply` onto a fresh data directory: every management type is exported or named as
 * left out, the objects `init` made are matched, and what logged in before logs in after. The CLI runs
 * in-process except the first snapshot and the unknown type, which a real `postern` process prints.
 */
import assert from "node:assert/strict";
import { OBJECT_SPECS } from "../src/model/objects/mod.ts";
import { typePath } from "../src/cli/snapshot.ts";
import { cliInProcess } from "./cli_in_process.ts";
import { basic, cli, PASSWORD, startServerProcess } from "./helpers.ts";
import { applyText, withInit } from "./cli_plan_helpers.ts";

/** One object of every type a plan can create, and a changed value in every settings singleton. */
const POPULATE = [
  `{"op":"create","type":"domain","ref":"d","fields":{"name":"snap.example"}}`,
  `{"op":"create","type":"account/group","ref":"g","fields":{"name":"crew","domainId":"#d"}}`,
  `{"op":"create","type":"account/user","ref":"u","fields":{"name":"sam","domainId":"#d","memberGroupIds":{"0":"#g"},` +
  `"roles":{"0":"admin"},"credentials":{"0":{"@type":"Password","secret":"${PASSWORD}"}}}}`,
  `{"op":"create","type":"api-key","fields":{"accountId":"#u","description":"backup script"}}`,
  `{"op":"create","type":"app-password","fields":{"accountId":"#u","description":"phone"}}`,
  `{"op":"create","type":"oauth-client/confidential","fields":{"name":"robot","ownerId":"#u",` +
  `"grantTypes":{"0":"client_credentials"},"scopes":{"0":"openid"}}}`,
  `{"op":"update","type":"cache","id":"singleton","fields":{"ttlSeconds":61}}`,
  `{"op":"update","type":"authentication","id":"singleton","fields":{"minPasswordLength":9}}`,
  `{"op":"update","type":"oidc-provider","id":"singleton","fields":{"accessTokenExpiry":"2h"}}`,
  `{"op":"update","type":"sharing","id":"singleton","fields":{"principalScope":"all"}}`,
  `{"op":"update","type":"smarthost","id":"singleton","fields":{"host":"smtp.example.net"}}`,
].join("\n");

Deno.test("a snapshot applied to a freshly initialized directory reproduces it, and its logins work", async () => {
  await withInit(async (source, sourceInit) => {
    const populated = await applyText(["--data", source], POPULATE);
    assert.equal(populated.code, 0, populated.stdout + populated.stderr);
    // The secrets made on the source: after apply they must work on the target.
    const made = populated.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const secretOf = (type: string) => made.find((o) => o.type === type && o.secret)?.secret as string;
    const snapshot = await cli(["--data", source, "snapshot"]);
    assert.equal(snapshot.code, 0, snapshot.stderr);
    const lines = snapshot.stdout.trim().split("\n").map((l) => JSON.parse(l));
    // Every declared type is in the plan or named on stderr as left out: none is silently missing.
    for (const name of Object.keys(OBJECT_SPECS)) {
      const path = typePath(name);
      const exported = lines.some((l) => l.type?.split("/")[0] === path);
      assert.ok(
        exported || snapshot.stderr.includes(name),
        `${name} is neither exported nor named as left out`,
      );
    }
    assert.match(snapshot.stderr, /left out: MailboxGrant/);
    assert.match(snapshot.stderr, /holds secrets/);
    assert.equal(lines[0].op, "credential-key");
    assert.ok(lines.filter((l) => l.secretHash).length >= 4, "API keys, app password and client have hashes");

    await withInit(async (target) => {
      const dry = await applyText(["--data", target], snapshot.stdout, ["--dry-run"]);
      assert.equal(dry.code, 0, dry.stdout + dry.stderr);
      const applied = await applyText(["--data", target], snapshot.stdout);
      assert.equal(applied.code, 0, applied.stdout + applied.stderr);
      const again = await cliInProcess(["--data", target, "snapshot"]);
      assert.equal(again.code, 0, again.stderr);
      // Ids, password hashes, keyed hashes, settings, names, memberships: the same, line for line.
      assert.deepEqual(again.stdout.trim().split("\n"), snapshot.stdout.trim().split("\n"));
      assert.doesNotMatch(applied.stdout, /wantedId/, "every object kept its id");

      assert.doesNotMatch(applied.stdout, /"secret"/, "no new secrets: the snapshot's keep working");
      const outcomes = applied.stdout.trim().split("\n").map((l) => JSON.parse(l));
      const matched = outcomes.filter((o) => o.matched).map((o) => o.type);
      assert.deepEqual(matched, ["domain", "account/user", "api-key"], "init's domain, admin and API key");
      const clientId = lines.find((l) => l.type === "oauth-client/confidential").fields.clientId;
      const server = await startServerProcess(target);
      try {
        const login = await fetch(`${server.url}/api/account`, {
          headers: { authorization: basic("sam@snap.example", PASSWORD) },
        });
        assert.equal(login.status, 200, "the password works on the new directory");
        await login.body?.cancel();
        for (const key of [secretOf("api-key"), sourceInit.apiKey]) {
          const keyed = await fetch(`${server.url}/api/account`, {
            headers: { authorization: `Bearer ${key}` },
          });
          assert.equal(keyed.status, 200, "the source's API keys work");
          await keyed.body?.cancel();
        }
        const app = await fetch(`${server.url}/api/account`, {
          headers: { authorization: basic("sam@snap.example", secretOf("app-password")) },
        });
        assert.equal(app.status, 200, "the source's app password works");
        await app.body?.cancel();
        const token = await fetch(`${server.url}/auth/token`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            grant_type: "client_credentials",
            client_id: clientId,
            client_secret: secretOf("oauth-client/confidential"),
          }),
        });
        const body = await token.json();
        assert.equal(token.status, 200, JSON.stringify(body));
        assert.ok(body.access_token);
      } finally {
        await server.stop();
      }
    });
  });
});

Deno.test("snapshot of an unknown type is a usage error (exit 2) naming it", async () => {
  await withInit(async (dir) => {
    const result = await cli(["--data", dir, "snapshot", "widget"]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.match(result.stderr.trim(), /^postern: Unknown object type "widget"/);
    assert.equal(result.stderr.trim().split("\n").length, 1);
  });
});

Deno.test("apply refuses a broken line, an unknown key, an unknown ref and a malformed hash, each naming its line", async () => {
  await withInit(async (dir) => {
    const broken = await applyText(
      ["--data", dir],
      `{"op":"create","type":"domain","fields":{"name":"a.example"}}\n{"op":`,
    );
    assert.equal(broken.code, 2);
    assert.match(broken.stderr.trim(), /^\{"error":"UsageError","message":"Plan line 2 is not valid JSON/);

    const unknownKey = await applyText(
      ["--data", dir],
      `{"op":"create","type":"domain","nmae":"x","fields":{}}`,
    );
    assert.equal(unknownKey.code, 2);
    assert.match(unknownKey.stderr.trim(), /"message":"Plan line 1: unknown key \\"nmae\\""/);

    const unknownField = `{"op":"create","type":"domain","fields":{"name":"b.example","colour":"red"}}`;
    for (const args of [["--dry-run"], []]) {
      const result = await applyText(["--data", dir], unknownField, args);
      assert.equal(result.code, 1);
      assert.match(JSON.parse(result.stdout.trim().split("\n")[0]).error, /colour/);
    }

    // A ref no earlier line defines fails the dry run exactly as it would fail the real run.
    const dangling = `{"op":"create","type":"account/user","fields":{"name":"kim","domainId":"#nowhere"}}`;
    for (const args of [["--dry-run"], []]) {
      const result = await applyText(["--data", dir], dangling, args);
      assert.equal(result.code, 1, result.stdout);
      const line = JSON.parse(result.stdout.trim().split("\n")[0]);
      assert.equal(line.line, 1);
      assert.match(line.error, /"#nowhere" names no ref of an earlier line/);
    }

    const badHash = `{"op":"create","type":"account/user","fields":{"name":"lee","domainId":"b",` +
      `"credentials":{"0":{"@type":"Password","secret":"$argon2id$v=19$garbage"}}}}`;
    const hashed = await applyText(["--data", dir], badHash);
    assert.equal(hashed.code, 1);
    const outcome = JSON.parse(hashed.stdout.trim().split("\n")[0]);
    assert.equal(outcome.line, 1);
    assert.match(outcome.error, /Argon2id hash is malformed/);
  });
});

Deno.test("a secret hash or credential key in the wrong form fails its line, in a dry run and for real", async () => {
  await withInit(async (dir) => {
    const plans = [
      `{"op":"create","type":"api-key","fields":{"accountId":"b","description":"x"},"secretHash":"not-hex"}`,
      `{"op":"credential-key","secret":"short"}`,
      `{"op":"create","type":"domain","fields":{"name":"h.example"},"secretHash":"${"a".repeat(64)}"}`,
    ];
    for (const plan of plans) {
      for (const args of [["--dry-run"], []]) {
        const result = await applyText(["--data", dir], plan, args);
        assert.equal(result.code, 1, result.stdout);
        const line = JSON.parse(result.stdout.trim().split("\n")[0]);
        assert.equal(line.line, 1);
        assert.match(line.error, /secretHash|credential key/);
      }
    }
    const keys = JSON.parse((await cliInProcess(["--data", dir, "--json", "query", "api-key"])).stdout);
    assert.equal(keys.length, 1, "only init's API key: nothing was created");
  });
});

Deno.test("over --url a snapshot says what it left out, and a server refuses a plan's keys and hashes", async () => {
  await withInit(async (dir, { apiKey }) => {
    const server = await startServerProcess(dir);
    try {
      const remote = ["--url", server.url, "--api-key", apiKey];
      const snapshot = await cliInProcess([...remote, "snapshot"]);
      assert.equal(snapshot.code, 0, snapshot.stderr);
      assert.doesNotMatch(snapshot.stdout, /credential-key|secretHash|\$argon2id\$/);
      assert.match(snapshot.stderr, /account password\(s\): not exported over --url/);
      assert.match(snapshot.stderr, /ApiKey secret\(s\)/);

      const local = await cliInProcess(["--data", dir, "snapshot"]);
      assert.equal(local.code, 0, local.stderr);
      for (const args of [["--dry-run"], []]) {
        const result = await applyText(remote, local.stdout, args);
        assert.equal(result.code, 1, result.stdout);
        const first = JSON.parse(result.stdout.trim().split("\n")[0]);
        assert.equal(first.op, "credential-key");
        assert.match(first.error, /needs local mode/);
      }
      // Without its secrets a non-admin's key cannot read the directory at all.
      const made = await cliInProcess([
        "--data",
        dir,
        "--json",
        "create",
        "account/user",
        "--field",
        "name=ned",
        "--field",
        "domainId=b",
        "--field",
        `credentials={"0":{"@type":"Password","secret":"${PASSWORD}"}}`,
      ]);
      assert.equal(made.code, 0, made.stderr);
      const denied = await cliInProcess([
        "--url",
        server.url,
        "--user",
        "ned@example.org",
        "snapshot",
        "cache",
      ], {
        POSTERN_PASSWORD: PASSWORD,
      });
      assert.equal(denied.code, 1);
      assert.equal(denied.stdout, "");
      assert.match(denied.stderr, /administrator|forbidden/i);
    } finally {
      await server.stop();
    }
  });
});

Deno.test("a dry run fails what the target would refuse: a taken name, a missing id; match passes", async () => {
  await withInit(async (dir) => {
    const plan = [
      `{"op":"create","type":"domain","fields":{"name":"example.org"}}`,
      `{"op":"create","type":"domain","match":["name"],"fields":{"name":"example.org","description":"main"}}`,
      `{"op":"update","type":"account","id":"zz","fields":{"description":"x"}}`,
      `{"op":"create","type":"domain","fields":{"name":"new.example"}}`,
      `{"op":"create","type":"domain","fields":{"name":"new.example"}}`,
    ].join("\n");
    const dry = await applyText(["--data", dir], plan, ["--dry-run"]);
    assert.equal(dry.code, 1);
    const lines = dry.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.ok), [false, true, false, true, false]);
    assert.match(lines[0].error, /Domain "example.org" already exists/);
    assert.match(lines[2].error, /Account "zz" does not exist/);
    // The real run stops where the dry run said it would.
    const real = await applyText(["--data", dir], plan);
    assert.equal(real.code, 1);
    assert.equal(JSON.parse(real.stdout.trim().split("\n")[0]).ok, false);
  });
});
