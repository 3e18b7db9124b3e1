/**
 * Finished queued messages are kept for x:Outbound keepFinishedSeconds (default three days, for
 * `postern queue`), then deleted by the worker's purge (the server's timer calls it; here the test
 * calls it with its clock). A message still to deliver is never deleted, whatever its age.
 */
import assert from "node:assert/strict";
import { set } from "./jmap_helpers.ts";
import { HOUR, MINUTE, submitTo, withQueueApp } from "./queue_helpers.ts";

const DAY = 24 * HOUR;

Deno.test("a finished message is deleted after keepFinishedSeconds; one still deferred stays", () =>
  withQueueApp(["250 2.0.0 Ok", "451 4.3.0 Later"], async (t, _transport, alice) => {
    await submitTo(t, alice, ["carol@remote.example"], "Delivered");
    await submitTo(t, alice, ["dave@other.example"], "Deferred");
    const start = Date.now();
    assert.equal(await t.services.queue.runDue(start), 2);
    const states = async () => (await t.services.store.queue.list()).map((m) => m.recipients[0].state).sort();
    assert.deepEqual(await states(), ["deferred", "delivered"]);
    assert.equal(await t.services.queue.purge(start + 2 * DAY), 0, "kept three days for postern queue");
    assert.equal(await t.services.queue.purge(start + 3 * DAY + MINUTE), 1);
    assert.deepEqual(await states(), ["deferred"], "the deferred one stays, however old");
    assert.equal(await t.services.queue.purge(start + 30 * DAY), 0);
    assert.deepEqual(await states(), ["deferred"]);
  }));

Deno.test("keepFinishedSeconds 0 keeps nothing once finished, as Postfix's queue", () =>
  withQueueApp(["250 2.0.0 Ok"], async (t, _transport, alice) => {
    const changed = await set(t, "x:Outbound", { update: { singleton: { keepFinishedSeconds: 0 } } });
    assert.deepEqual(changed.updated, { singleton: null }, JSON.stringify(changed));
    await submitTo(t, alice, ["carol@remote.example"]);
    const start = Date.now();
    assert.equal(await t.services.queue.runDue(start), 1);
    assert.equal(await t.services.queue.purge(start + 1), 1);
    assert.deepEqual(await t.services.store.queue.list(), []);
  }));
