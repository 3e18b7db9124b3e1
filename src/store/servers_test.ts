import assert from "node:assert/strict";
import { openStore } from "./mod.ts";

Deno.test("a server registers where it answers, stays listed while it refreshes its row, and leaves", async () => {
  const store = openStore(":memory:");
  try {
    const start = Date.UTC(2026, 11, 6, 12);
    const id = await store.servers.register({
      url: "http://127.0.0.1:8080",
      pid: 42,
      version: "1",
      startedAt: start,
    });
    assert.deepEqual((await store.servers.running(start - 1)).map((s) => [s.url, s.pid]), [[
      "http://127.0.0.1:8080",
      42,
    ]]);
    assert.deepEqual(await store.servers.running(start + 60_000), [], "not refreshed for a minute: gone");
    await store.servers.seen(id, start + 90_000);
    assert.equal((await store.servers.running(start + 60_000)).length, 1);
    await store.servers.unregister(id);
    assert.deepEqual(await store.servers.running(0), []);
    // A row a crashed server left is dropped when the next one registers a day later.
    await store.servers.register({ url: "http://a", pid: 1, version: "1", startedAt: start });
    await store.servers.register({
      url: "http://b",
      pid: 2,
      version: "1",
      startedAt: start + 2 * 86_400_000,
    });
    assert.deepEqual((await store.servers.running(0)).map((s) => s.url), ["http://b"]);
  } finally {
    store.close();
  }
});
