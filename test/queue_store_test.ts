/**
 * The queue's store (src/store/queue.ts) on a database file shared by two connections, as two
 * processes would share it: a claim is taken by exactly one, an expired claim is taken again, an
 * untried message can be canceled and a claimed or tried one cannot.
 */
import assert from "node:assert/strict";
import { openStore, type Store } from "../src/store/mod.ts";

async function withTwo(body: (a: Store, b: Store) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const a = openStore(`${dir}/postern.db`);
  const b = openStore(`${dir}/postern.db`);
  try {
    await body(a, b);
  } finally {
    a.close();
    b.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const T0 = 1_800_000_000_000;
const message = (recipients: string[]) => ({
  accountId: null,
  submissionId: null,
  kind: "submission" as const,
  mailFrom: "alice@example.org",
  message: new TextEncoder().encode("Subject: hi\r\n\r\nhello\r\n"),
  recipients,
  createdAt: T0,
});

Deno.test("of two connections claiming the same due work, exactly one gets it", () =>
  withTwo(async (a, b) => {
    const id = await a.queue.enqueue(message(["x@one.test", "y@ONE.test", "z@two.test"]));
    assert.deepEqual(await b.queue.due(T0, 10), [
      { messageId: id, domain: "one.test" },
      { messageId: id, domain: "two.test" },
    ]);
    const [first, second] = await Promise.all([
      a.queue.claim(id, "one.test", T0, T0 + 60_000),
      b.queue.claim(id, "one.test", T0, T0 + 60_000),
    ]);
    assert.deepEqual([first.length, second.length].sort(), [0, 2]);
    assert.deepEqual(await a.queue.due(T0, 10), [{ messageId: id, domain: "two.test" }]);
    assert.equal((await b.queue.content(id))?.length, message([]).message.length);
  }));

Deno.test("two connections claiming overlapping batches get each unit once between them", () =>
  withTwo(async (a, b) => {
    const ids = [];
    for (let i = 0; i < 6; i++) {
      ids.push(await a.queue.enqueue(message([`x${i}@one.test`, `y${i}@two.test`])));
    }
    const units = ids.flatMap((messageId) => [
      { messageId, domain: "one.test" },
      { messageId, domain: "two.test" },
    ]);
    // a asks for the first two thirds, b for the last two thirds: the middle third is asked by both.
    // (One after the other: in one thread, a second connection's write would wait for the first's.)
    const byA = await a.queue.claimAll(units.slice(0, 8), T0, T0 + 60_000);
    const byB = await b.queue.claimAll(units.slice(4), T0, T0 + 60_000);
    assert.deepEqual(byB.slice(0, 4).map((c) => c.length), [0, 0, 0, 0], "a has the middle third");
    assert.equal(byA.length, 8);
    assert.equal(byB.length, 8);
    const claimed = [...byA, ...byB].flat().map((r) => r.id).sort((x, y) => x - y);
    assert.equal(claimed.length, 12, "every recipient is claimed");
    assert.equal(new Set(claimed).size, 12, "none twice");
    for (const [i, unit] of units.slice(0, 8).entries()) {
      for (const r of byA[i]) assert.deepEqual([r.messageId, r.domain], [unit.messageId, unit.domain]);
    }
    assert.deepEqual(await a.queue.due(T0, 20), [], "nothing is left unclaimed");
    assert.deepEqual(await a.queue.claimAll([], T0, T0 + 60_000), []);
  }));

Deno.test("a claim whose worker died expires and the work is claimed again; an attempt releases it", () =>
  withTwo(async (a, b) => {
    const id = await a.queue.enqueue(message(["x@one.test"]));
    assert.equal((await a.queue.claim(id, "one.test", T0, T0 + 60_000)).length, 1);
    assert.equal((await b.queue.claim(id, "one.test", T0 + 59_999, T0 + 120_000)).length, 0);
    assert.deepEqual(await b.queue.due(T0 + 60_001, 10), [{ messageId: id, domain: "one.test" }]);
    const [again] = await b.queue.claim(id, "one.test", T0 + 60_001, T0 + 120_000);
    assert.equal(again.attempts, 0, "a claim lost with its worker is not an attempt");
    // The first worker comes back late: its lease was taken over, so it records nothing.
    const late = [{ recipient: "x@one.test", state: "delivered" as const, reply: "250 late" }];
    assert.deepEqual(await a.queue.record(id, late, T0 + 65_000, T0 + 60_000), []);
    assert.equal((await a.queue.get(id))!.recipients[0].claimedUntil, T0 + 120_000, "the new lease stands");
    assert.deepEqual(
      await b.queue.record(
        id,
        [{
          recipient: "x@one.test",
          state: "deferred",
          reply: "451 4.3.0 Try later",
          nextAttemptAt: T0 + 400_000,
        }],
        T0 + 70_000,
        T0 + 120_000,
      ),
      ["x@one.test"],
    );
    const [row] = (await a.queue.get(id))!.recipients;
    assert.deepEqual([row.state, row.attempts, row.claimedUntil, row.lastReply], [
      "deferred",
      1,
      0,
      "451 4.3.0 Try later",
    ]);
    assert.deepEqual(await a.queue.due(T0 + 399_999, 10), []);
    assert.equal(await a.queue.retryNow(id, T0 + 100_000), 1);
    assert.deepEqual(await a.queue.due(T0 + 100_000, 10), [{ messageId: id, domain: "one.test" }]);
  }));

Deno.test("an untried unclaimed message can be canceled; a claimed or tried one cannot", () =>
  withTwo(async (a, b) => {
    const free = await a.queue.enqueue(message(["x@one.test", "y@two.test"]));
    assert.equal(await b.queue.cancelUntried(free, T0), true);
    assert.deepEqual((await a.queue.get(free))!.recipients.map((r) => r.state), ["canceled", "canceled"]);
    assert.deepEqual(await a.queue.due(T0, 10), []);

    const held = await a.queue.enqueue(message(["x@one.test", "y@two.test"]));
    await a.queue.claim(held, "two.test", T0, T0 + 60_000);
    assert.equal(await b.queue.cancelUntried(held, T0 + 1), false);
    assert.deepEqual((await a.queue.get(held))!.recipients.map((r) => r.state), ["queued", "queued"]);
    await a.queue.record(held, [{ recipient: "y@two.test", state: "delivered", reply: "250 ok" }], T0 + 2);
    assert.equal(await b.queue.cancelUntried(held, T0 + 3), false, "one recipient was tried");
    assert.equal(await b.queue.delete(held, T0 + 3), true);
    assert.equal(await a.queue.get(held), undefined);
  }));

Deno.test("list filters by state and domain; stats count recipients and the oldest active message", () =>
  withTwo(async (a) => {
    const one = await a.queue.enqueue(message(["x@one.test"]));
    const two = await a.queue.enqueue({ ...message(["y@two.test"]), createdAt: T0 + 5 });
    await a.queue.claim(one, "one.test", T0, T0 + 10);
    await a.queue.record(one, [{ recipient: "x@one.test", state: "failed", reply: "550 5.1.1 no" }], T0 + 1);
    assert.deepEqual((await a.queue.list({ state: "failed" })).map((m) => m.id), [one]);
    assert.deepEqual((await a.queue.list({ domain: "two.test" })).map((m) => m.id), [two]);
    assert.deepEqual((await a.queue.list({ afterId: one })).map((m) => m.id), [two]);
    const stats = await a.queue.stats();
    assert.equal(stats.recipients.failed, 1);
    assert.equal(stats.recipients.queued, 1);
    assert.equal(stats.activeMessages, 1);
    assert.equal(stats.oldestActiveAt, T0 + 5);
    const [failed] = (await a.queue.get(one))!.recipients;
    const queued = (await a.queue.get(two))!.recipients[0];
    assert.deepEqual(await a.queue.markReported(one, [failed.id], T0 + 2), [failed.id]);
    assert.deepEqual(
      await a.queue.markReported(one, [failed.id], T0 + 3),
      [],
      "a recipient is reported once",
    );
    assert.deepEqual(await a.queue.markReported(two, [queued.id], T0 + 3), [], "only failed recipients");
    assert.equal((await a.queue.get(one))!.bouncedAt, T0 + 2);
  }));

Deno.test("due work comes as distinct (message, domain) pairs, the longest waiting first, at most the limit", () =>
  withTwo(async (a) => {
    const many = await a.queue.enqueue({
      ...message(["a@one.test", "b@one.test", "c@one.test", "d@two.test"]),
      firstAttemptAt: T0 + 10,
    });
    const early = await a.queue.enqueue({ ...message(["e@three.test"]), firstAttemptAt: T0 });
    const later = await a.queue.enqueue({ ...message(["f@one.test"]), firstAttemptAt: T0 + 20 });
    assert.deepEqual(await a.queue.due(T0 + 20, 10), [
      { messageId: early, domain: "three.test" },
      { messageId: many, domain: "one.test" },
      { messageId: many, domain: "two.test" },
      { messageId: later, domain: "one.test" },
    ]);
    assert.deepEqual(await a.queue.due(T0 + 20, 2), [
      { messageId: early, domain: "three.test" },
      { messageId: many, domain: "one.test" },
    ]);
    assert.deepEqual(await a.queue.due(T0 + 10, 10), [
      { messageId: early, domain: "three.test" },
      { messageId: many, domain: "one.test" },
      { messageId: many, domain: "two.test" },
    ], "not yet due is not listed");
    await a.queue.claim(many, "one.test", T0 + 20, T0 + 60_000);
    assert.deepEqual(await a.queue.due(T0 + 20, 10), [
      { messageId: early, domain: "three.test" },
      { messageId: many, domain: "two.test" },
      { messageId: later, domain: "one.test" },
    ], "claimed work is not listed");
  }));

Deno.test("of two connections storing the signed bytes of a message queued unsigned, the first stands", () =>
  withTwo(async (a, b) => {
    const id = await a.queue.enqueue({ ...message(["x@one.test", "y@two.test"]), signPending: true });
    assert.equal((await b.queue.get(id))!.signPending, true);
    const signed = (tag: string) =>
      new TextEncoder().encode(`DKIM-Signature: ${tag}\r\nSubject: hi\r\n\r\nhello\r\n`);
    assert.equal(await a.queue.storeSigned(id, signed("first")), true);
    assert.equal(await b.queue.storeSigned(id, signed("second")), false, "already signed");
    assert.deepEqual(await b.queue.content(id), signed("first"));
    const stored = (await b.queue.get(id))!;
    assert.deepEqual([stored.signPending, stored.size], [false, signed("first").length]);
    const plain = await a.queue.enqueue(message(["z@one.test"]));
    assert.equal((await a.queue.get(plain))!.signPending, false, "signed at enqueue by default");
    assert.equal(
      await a.queue.storeSigned(plain, signed("late")),
      false,
      "a signed message is never replaced",
    );
    assert.deepEqual(await a.queue.content(plain), message([]).message);
  }));
