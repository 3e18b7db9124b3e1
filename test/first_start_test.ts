/** First start of the real server: data directory, key file, admin, and a clean stop. */
import assert from "node:assert/strict";
import { basic, startServerProcess } from "./helpers.ts";

Deno.test("serve on an empty directory creates the database, a 0600 key and an admin whose password is printed once", async () => {
  const parent = await Deno.makeTempDir({ prefix: "postern-first-" });
  const dataDir = `${parent}/data`;
  try {
    const first = await startServerProcess(dataDir, { POSTERN_ADMIN_PASSWORD: "" });
    let password: string;
    try {
      const match = /password, shown only this once: ([^\s"]+)/.exec(first.startup);
      assert.ok(match, first.startup);
      password = match[1];
      assert.match(first.startup, /admin@example\.org/);
      const key = await Deno.stat(`${dataDir}/encryption.key`);
      assert.equal(key.mode! & 0o777, 0o600);
      const keyBytes = atob((await Deno.readTextFile(`${dataDir}/encryption.key`)).trim()).length;
      assert.equal(keyBytes, 64, "a 512-bit key");
      const response = await fetch(`${first.url}/api/account`, {
        headers: { authorization: basic("admin@example.org", password) },
      });
      assert.equal(response.status, 200);
      const account = await response.json();
      assert.deepEqual(account.roles, ["admin"]);
      assert.equal(account.emailAddress, "admin@example.org");
    } finally {
      await first.stop();
    }
    assert.equal(first.exitCode, 0, "SIGTERM stops the server cleanly");

    // A second start finds everything in place: nothing is created or printed again.
    const second = await startServerProcess(dataDir, { POSTERN_ADMIN_PASSWORD: "" });
    try {
      assert.doesNotMatch(second.startup, /shown only this once/);
      const response = await fetch(`${second.url}/api/account`, {
        headers: { authorization: basic("admin@example.org", password) },
      });
      assert.equal(response.status, 200);
      await response.body?.cancel();
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("the real server refuses oversized headers and bodies with a 4xx and keeps serving", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-limits-" });
  const server = await startServerProcess(dataDir);
  try {
    const huge = await fetch(`${server.url}/api/account`, { headers: { "x-filler": "a".repeat(200_000) } })
      .then((r) => r.body?.cancel().then(() => r.status), () => "refused");
    assert.ok(huge === "refused" || (typeof huge === "number" && huge >= 400 && huge < 500), String(huge));
    const longAuth = await fetch(`${server.url}/api/account`, {
      headers: { authorization: "Basic " + "QUFB".repeat(3000) },
    });
    assert.equal(longAuth.status, 400);
    await longAuth.body?.cancel();
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
