/**
 * The outbound queue for administrators (x:QueuedMessage and the queue actions): messages are listed
 * with each recipient's state and filtered by state, recipient domain and sender; RetryQueuedMessages
 * makes deferred recipients due now; CancelQueuedMessages cancels what is left to deliver; destroy
 * drops a message. Users are refused with `forbidden` everywhere (they follow their own mail through
 * EmailSubmission); unknown ids and bad filters are the caller's mistakes, refused by name.
 */
import assert from "node:assert/strict";
import { ADMIN, call, callError, createUser, set, withApp } from "./jmap_helpers.ts";
import { seedQueue } from "./queue_admin_helpers.ts";
import type { TestApp } from "./helpers.ts";

type Obj = Record<string, unknown>;

const query = async (t: TestApp, filter: Obj | null = null) =>
  (await call(t, "x:QueuedMessage/query", { filter })).ids as string[];

const get = async (t: TestApp, id: string) =>
  ((await call(t, "x:QueuedMessage/get", { ids: [id] })).list as Obj[])[0];

const action = async (t: TestApp, object: Obj, auth = ADMIN, accountId = "b") =>
  await set(t, "x:Action", { create: { a: object } }, { auth, accountId });

const recipients = (m: Obj) => Object.values(m.recipients as Obj) as Obj[];

Deno.test("an administrator lists queued messages with each recipient's state and filters them", async () => {
  await withApp(async (t) => {
    const seeded = await seedQueue(t.services.store);
    assert.deepEqual((await query(t)).sort(), [seeded.deferred, seeded.queued, seeded.failed].sort());
    const deferred = await get(t, seeded.deferred);
    assert.equal(deferred.state, "deferred");
    assert.equal(deferred.sender, "alice@example.org");
    assert.equal(deferred.kind, "submission");
    assert.deepEqual(Object.values(deferred.domains as Obj), ["remote.example"]);
    const bob = recipients(deferred).find((r) => r.address === "bob@remote.example")!;
    assert.equal(bob.state, "deferred");
    assert.equal(bob.attempts, 1);
    assert.equal(bob.lastReply, "451 4.3.0 Try later");
    assert.ok(Date.parse(String(bob.nextAttemptAt)) > Date.now() + 30 * 60_000, String(bob.nextAttemptAt));
    const carol = recipients(deferred).find((r) => r.address === "carol@remote.example")!;
    assert.deepEqual([carol.state, carol.nextAttemptAt], ["delivered", null]);
    assert.ok(Number(deferred.size) > 0);

    assert.deepEqual(await query(t, { state: "deferred" }), [seeded.deferred]);
    assert.deepEqual(await query(t, { state: "queued" }), [seeded.queued]);
    assert.deepEqual(await query(t, { state: "failed" }), [seeded.failed]);
    assert.deepEqual(await query(t, { domain: "Other.Example" }), [seeded.queued]);
    assert.deepEqual(await query(t, { sender: "" }), [seeded.failed]);
    assert.deepEqual(
      (await query(t, { sender: "ALICE@example.org" })).sort(),
      [seeded.deferred, seeded.queued].sort(),
    );
    assert.deepEqual(
      await query(t, { operator: "NOT", conditions: [{ sender: "" }] }).then((ids) => ids.length),
      2,
    );
  });
});

Deno.test("a query's state and domain are asked of the store (SQL), the answer unchanged; an operator filter is not", async () => {
  await withApp(async (t) => {
    const seeded = await seedQueue(t.services.store);
    const queue = t.services.store.queue;
    const list = queue.list;
    const asked: Obj[] = [];
    queue.list = (filter = {}) => {
      asked.push({ state: filter.state, domain: filter.domain });
      return list(filter);
    };
    assert.deepEqual(await query(t, { state: "deferred", domain: "Remote.Example." }), [seeded.deferred]);
    assert.deepEqual(asked, [{ state: "deferred", domain: "remote.example" }]);
    asked.length = 0;
    const either = await query(t, { operator: "OR", conditions: [{ state: "queued" }, { state: "failed" }] });
    assert.deepEqual(either.sort(), [seeded.queued, seeded.failed].sort());
    assert.deepEqual(asked, [{ state: undefined, domain: undefined }], "the whole queue, filtered after");
  });
});

Deno.test("retry makes deferred recipients due now; cancel stops the rest; destroy drops a message", async () => {
  await withApp(async (t) => {
    const seeded = await seedQueue(t.services.store);
    const before = Date.now();
    const retried = await action(t, { "@type": "RetryQueuedMessages", ids: [seeded.deferred] });
    assert.equal(((retried.created as Obj).a as Obj).recipients, 1, JSON.stringify(retried));
    const bob = recipients(await get(t, seeded.deferred)).find((r) => r.address === "bob@remote.example")!;
    assert.ok(
      Date.parse(String(bob.nextAttemptAt)) <= Date.now() &&
        Date.parse(String(bob.nextAttemptAt)) >= before - 1000,
    );
    // The queue's own worker sees it due now.
    const due = await t.services.store.queue.due(Date.now(), 10);
    assert.ok(due.some((d) => d.domain === "remote.example"), JSON.stringify(due));
    // Without ids every deferred recipient is retried (the queued one is already due: not counted).
    const all = await action(t, { "@type": "RetryQueuedMessages" });
    assert.equal(((all.created as Obj).a as Obj).recipients, 1);

    const canceled = await action(t, {
      "@type": "CancelQueuedMessages",
      ids: [seeded.deferred, seeded.queued],
    });
    assert.equal(((canceled.created as Obj).a as Obj).recipients, 2, JSON.stringify(canceled));
    const after = await get(t, seeded.deferred);
    assert.equal(after.state, "canceled");
    assert.deepEqual(recipients(after).map((r) => r.state).sort(), ["canceled", "delivered"]);
    assert.deepEqual(
      await query(t, { state: "canceled" }).then((ids) => ids.sort()),
      [seeded.deferred, seeded.queued].sort(),
    );
    assert.equal(
      (await t.services.store.queue.due(Date.now() + 86_400_000, 10)).length,
      0,
      "nothing left to deliver",
    );

    const destroyed = await set(t, "x:QueuedMessage", { destroy: [seeded.failed] });
    assert.deepEqual(destroyed.destroyed, [seeded.failed], JSON.stringify(destroyed));
    assert.equal(
      (await call(t, "x:QueuedMessage/get", { ids: [seeded.failed] })).notFound?.toString(),
      seeded.failed,
    );
    assert.deepEqual((await query(t)).sort(), [seeded.deferred, seeded.queued].sort());
  });
});

Deno.test("a message being delivered is not deleted under the worker (objectIsLinked), then is", async () => {
  await withApp(async (t) => {
    const seeded = await seedQueue(t.services.store);
    const now = Date.now();
    const { store } = t.services;
    const queued = (await store.queue.list({ domain: "other.example" }))[0];
    assert.equal((await store.queue.claim(queued.id, "other.example", now, now + 60_000)).length, 1);
    const refused = await set(t, "x:QueuedMessage", { destroy: [seeded.queued] });
    const error = (refused.notDestroyed as Record<string, Obj>)[seeded.queued];
    assert.equal(error.type, "objectIsLinked", JSON.stringify(refused));
    assert.match(String(error.description), /being delivered now/);
    await store.queue.release(queued.id, "other.example");
    assert.deepEqual((await set(t, "x:QueuedMessage", { destroy: [seeded.queued] })).destroyed, [
      seeded.queued,
    ]);
  });
});

Deno.test("users are refused the queue with forbidden: get, query, changes, destroy and the actions", async () => {
  await withApp(async (t) => {
    const seeded = await seedQueue(t.services.store);
    const alice = await createUser(t, "alice");
    const as = { auth: alice.auth };
    for (
      const [name, args] of [
        ["x:QueuedMessage/get", { ids: [seeded.deferred] }],
        ["x:QueuedMessage/get", { ids: null }],
        ["x:QueuedMessage/query", {}],
        ["x:QueuedMessage/changes", { sinceState: "0" }],
      ] as const
    ) {
      const error = await callError(t, name, { accountId: alice.accountId, ...args }, as);
      assert.equal(error.type, "forbidden", `${name}: ${JSON.stringify(error)}`);
    }
    const destroy = await set(t, "x:QueuedMessage", { destroy: [seeded.deferred] }, alice);
    assert.equal((destroy.notDestroyed as Record<string, Obj>)[seeded.deferred].type, "forbidden");
    for (const name of ["RetryQueuedMessages", "CancelQueuedMessages"]) {
      const refused = await action(t, { "@type": name, ids: [seeded.deferred] }, alice.auth, alice.accountId);
      assert.equal(((refused.notCreated as Obj).a as Obj).type, "forbidden", JSON.stringify(refused));
    }
    // Nothing changed.
    const bob = recipients(await get(t, seeded.deferred)).find((r) => r.address === "bob@remote.example")!;
    assert.equal(bob.state, "deferred");
    assert.ok(Date.parse(String(bob.nextAttemptAt)) > Date.now() + 30 * 60_000);
    // Administrators get no /changes either: the queue keeps no change log.
    const changes = await callError(t, "x:QueuedMessage/changes", { accountId: "b", sinceState: "0" });
    assert.equal(changes.type, "cannotCalculateChanges");
  });
});

Deno.test("unknown ids, bad filters and bad arguments are refused by name and change nothing", async () => {
  await withApp(async (t) => {
    const seeded = await seedQueue(t.services.store);
    const got = await call(t, "x:QueuedMessage/get", { ids: ["zzz9", "not an id", seeded.queued] });
    assert.deepEqual(got.notFound, ["zzz9", "not an id"]);
    assert.equal((got.list as Obj[]).length, 1);

    const unknown = await action(t, { "@type": "CancelQueuedMessages", ids: [seeded.queued, "zzz9"] });
    const error = (unknown.notCreated as Obj).a as Obj;
    assert.equal(error.type, "notFound", JSON.stringify(unknown));
    assert.match(String(error.description), /zzz9/);
    assert.equal((await get(t, seeded.queued)).state, "queued", "the known id was not canceled either");
    for (const ids of ["b", [1, 2], null]) {
      const bad = await action(t, { "@type": "CancelQueuedMessages", ids });
      assert.equal(((bad.notCreated as Obj).a as Obj).type, "invalidProperties", JSON.stringify(bad));
    }
    const extra = await action(t, { "@type": "RetryQueuedMessages", all: true });
    assert.equal(((extra.notCreated as Obj).a as Obj).type, "invalidProperties");
    const destroyUnknown = await set(t, "x:QueuedMessage", { destroy: ["zzz9"] });
    assert.equal((destroyUnknown.notDestroyed as Record<string, Obj>).zzz9.type, "notFound");
    const update = await set(t, "x:QueuedMessage", {
      update: { [seeded.queued]: { sender: "x@y.example" } },
    });
    assert.equal((update.notUpdated as Record<string, Obj>)[seeded.queued].type, "forbidden");

    const filter = async (f: Obj) =>
      await callError(t, "x:QueuedMessage/query", { accountId: "b", filter: f });
    assert.equal((await filter({ color: "red" })).type, "unsupportedFilter");
    const state = await filter({ state: "stuck" });
    assert.equal(state.type, "invalidArguments");
    assert.match(String(state.description), /deferred, queued, failed, canceled, delivered/);
    assert.equal((await filter({ domain: 7 })).type, "invalidArguments");
    assert.equal(
      (await filter({ operator: "AND", conditions: [{ sender: false }] })).type,
      "invalidArguments",
    );
  });
});

Deno.test("/metrics shows the queue by recipient state, its oldest age and deliveries by result", async () => {
  await withApp(async (t) => {
    await seedQueue(t.services.store);
    t.services.deliveryMetrics.recordAll({
      "a@x.example": { kind: "delivered", reply: "250 2.0.0 Ok" },
      "b@x.example": { kind: "temporary", reply: "451 4.3.0 Later" },
    });
    t.services.deliveryMetrics.record("delivered");
    const response = await t.fetch("/metrics", { headers: { authorization: ADMIN } });
    assert.equal(response.status, 200);
    const text = await response.text();
    for (
      const line of [
        'postern_queue_recipients{state="queued"} 1',
        'postern_queue_recipients{state="deferred"} 1',
        'postern_queue_recipients{state="delivered"} 1',
        'postern_queue_recipients{state="failed"} 1',
        'postern_queue_recipients{state="canceled"} 0',
        "postern_queue_active_messages 2",
        'postern_queue_deliveries_total{result="delivered"} 2',
        'postern_queue_deliveries_total{result="temporary"} 1',
        'postern_queue_deliveries_total{result="permanent"} 0',
      ]
    ) {
      assert.ok(text.includes(`\n${line}\n`), `${line} in:\n${text}`);
    }
    const age = Number(/^postern_queue_oldest_age_seconds (\d+)$/m.exec(text)?.[1]);
    assert.ok(age >= 3600 && age < 3700, String(age));
  });
});
