import assert from "node:assert/strict";
import { openStore } from "./mod.ts";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

Deno.test("failed logins are counted per minute and read back for a window", async () => {
  const store = openStore(":memory:");
  try {
    const now = Date.UTC(2026, 11, 6, 12, 0, 30);
    await store.activity.recordLoginFailure(now - 61 * MINUTE);
    await store.activity.recordLoginFailure(now - 59 * MINUTE);
    await store.activity.recordLoginFailure(now - 10 * MINUTE);
    await store.activity.recordLoginFailure(now - 10 * MINUTE + 1000);
    await store.activity.recordLoginFailure(now);
    assert.equal(await store.activity.loginFailuresSince(now - 60 * MINUTE), 4);
    assert.equal(await store.activity.loginFailuresSince(now - 2 * 60 * MINUTE), 5);
    assert.equal(await store.activity.loginFailuresSince(now + MINUTE), 0);
  } finally {
    store.close();
  }
});

Deno.test("failed-login minutes older than two days are pruned, so the table stays small", async () => {
  const store = openStore(":memory:");
  try {
    const now = Date.UTC(2026, 11, 6, 12, 0, 0);
    for (let day = 5; day >= 1; day--) await store.activity.recordLoginFailure(now - day * DAY);
    await store.activity.recordLoginFailure(now);
    assert.equal(await store.activity.loginFailuresSince(0), 3, "three days ago and older are gone");
  } finally {
    store.close();
  }
});
