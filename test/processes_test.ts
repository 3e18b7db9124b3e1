/**
 * `postern serve --processes 2`: two real processes on one port and one database (src/supervisor.ts).
 * Which process a connection reaches is the kernel's choice; test/pinned_connection.ts keeps one open
 * to each, so a test writes through one and reads through the other.
 */
import assert from "node:assert/strict";
import { basic, PASSWORD, until, withTempDir } from "./helpers.ts";
import { failedStart } from "./log_helpers.ts";
import { PinnedConnection } from "./pinned_connection.ts";
import { ADMIN, alive, childrenOf, createUser, startProcesses } from "./processes_helpers.ts";

Deno.test("two processes serve one port: both answer, and a write through one is seen by the next request to the other", () =>
  withTempDir("postern-processes-", async (dir) => {
    const server = await startProcesses(dir);
    const [zero, one] = [await PinnedConnection.to(server.url, 0), await PinnedConnection.to(server.url, 1)];
    try {
      const health = JSON.parse((await one.request("GET", "/healthz")).text);
      assert.deepEqual([health.process, health.processes], [1, 2]);
      const bob = { authorization: basic("bob@example.org", PASSWORD) };
      // Process 1 remembers that bob does not exist (a negative cache entry) …
      assert.equal((await one.request("GET", "/api/account", { headers: bob })).status, 401);
      // … process 0 creates him, and the next request to process 1 signs him in.
      await createUser(zero, "bob");
      const account = await one.request("GET", "/api/account", { headers: bob });
      assert.equal(account.status, 200, account.text);
      assert.equal(JSON.parse(account.text).emailAddress, "bob@example.org");
    } finally {
      zero.close();
      one.close();
      await server.stop();
    }
    assert.equal(server.exitCode, 0);
  }));

Deno.test("wrong passwords spread over two processes are throttled as one count", () =>
  withTempDir("postern-processes-", async (dir) => {
    const server = await startProcesses(dir);
    const [zero, one] = [await PinnedConnection.to(server.url, 0), await PinnedConnection.to(server.url, 1)];
    try {
      const wrong = { authorization: basic("mallory@example.org", "not the password") };
      // Five failures impose no delay (the default), the sixth does; alternating between the processes.
      for (let attempt = 0; attempt < 6; attempt++) {
        const connection = attempt % 2 === 0 ? zero : one;
        assert.equal((await connection.request("GET", "/api/account", { headers: wrong })).status, 401);
      }
      // The next is refused by either process, although each saw only three failures.
      for (const connection of [one, zero]) {
        const refused = await connection.request("GET", "/api/account", { headers: wrong });
        assert.equal(refused.status, 429, refused.text);
        assert.ok(Number(refused.headers.get("retry-after")) > 0);
      }
    } finally {
      zero.close();
      one.close();
      await server.stop();
    }
  }));

Deno.test("/metrics through either process reports both: own series per process, database figures once", () =>
  withTempDir("postern-processes-", async (dir) => {
    const server = await startProcesses(dir);
    const [zero, one] = [await PinnedConnection.to(server.url, 0), await PinnedConnection.to(server.url, 1)];
    try {
      for (let i = 0; i < 3; i++) await one.request("GET", "/healthz");
      for (const connection of [zero, one]) {
        const scrape = await connection.request("GET", "/metrics", { headers: { authorization: ADMIN } });
        assert.equal(scrape.status, 200, scrape.text);
        const healthz = (process: number) =>
          new RegExp(
            `^postern_http_requests_total\\{method="GET",route="/healthz",status="200",process="${process}"\\} (\\d+)$`,
            "m",
          );
        // PinnedConnection.to asked /healthz of both until each was reached, so both counted some.
        assert.ok(Number(healthz(1).exec(scrape.text)?.[1]) >= 4, scrape.text);
        assert.ok(Number(healthz(0).exec(scrape.text)?.[1]) >= 1, scrape.text);
        assert.equal(scrape.text.match(/^# TYPE postern_http_requests_total counter$/gm)?.length, 1);
        assert.deepEqual(scrape.text.match(/^postern_emails.*$/gm), ["postern_emails 0"]);
      }
      // A sibling's view: that process's own series only.
      const own = await one.request("GET", "/metrics?scope=process", { headers: { authorization: ADMIN } });
      assert.doesNotMatch(own.text, /process="0"/);
      assert.match(own.text, /process="1"/);
    } finally {
      zero.close();
      one.close();
      await server.stop();
    }
  }));

Deno.test("a child killed with SIGKILL is logged and started again, and what it acknowledged is kept", () =>
  withTempDir("postern-processes-", async (dir) => {
    const server = await startProcesses(dir);
    try {
      const pid = server.pid;
      const [child] = childrenOf(pid);
      const one = await PinnedConnection.to(server.url, 1);
      await createUser(one, "carol");
      one.close();
      Deno.kill(child, "SIGKILL");
      await until(() => childrenOf(pid).some((p) => p !== child && alive(p)), "the child started again");
      await until(
        () => server.stderr().split("process 1 of 2 serving").length > 2,
        "the restarted child serves",
      );
      assert.match(server.stderr(), /Process 1 \(pid \d+\) exited \(signal SIGKILL\); starting it again/);
      const again = await PinnedConnection.to(server.url, 1);
      const carol = await again.request("GET", "/api/account", {
        headers: { authorization: basic("carol@example.org", PASSWORD) },
      });
      again.close();
      assert.equal(carol.status, 200, carol.text);
    } finally {
      await server.stop();
    }
    assert.equal(server.exitCode, 0);
  }));

Deno.test("SIGTERM stops every process, and a supervisor killed with SIGKILL leaves no child serving", () =>
  withTempDir("postern-processes-", async (dir) => {
    const server = await startProcesses(dir);
    const children = childrenOf(server.pid);
    assert.equal(children.length, 1);
    await server.stop();
    assert.equal(server.exitCode, 0);
    await until(() => !children.some(alive), "the child exited");
    assert.match(server.stderr(), /supervisor gone: shutting down/);

    const killed = await startProcesses(dir);
    const orphans = childrenOf(killed.pid);
    killed.kill("SIGKILL");
    await killed.status;
    await until(() => !orphans.some(alive), "the orphaned child exited");
    await killed.stop();
  }));

Deno.test("--processes 0, -1, abc and 65 are start errors that quote the value", async () => {
  for (const value of ["0", "-1", "abc", "65"]) {
    const result = await failedStart(["--processes", value]);
    assert.equal(result.code, 2, `${value}: ${result.stderr}`);
    assert.match(result.stderr, /number of processes \(--processes\)/, value);
    assert.ok(result.stderr.includes(`"${value}"`), result.stderr);
  }
});
