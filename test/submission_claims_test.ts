/**
 * Sending through a smarthost that answers slowly (issue 18, item 15; issue 23, the queue): a
 * submission's remote recipients are queued when it is recorded (or, held, when the due loop hands
 * it over), and the queue's worker claims each delivery with a lease in the database, so the worker
 * running again, a second server on the same database, or a cancel never make a message go twice;
 * a delivery under way can no longer be canceled (cannotUnsend); a lease that runs out (its worker
 * died) is delivered again. The smarthost (smtp-server on 127.0.0.1) holds its answer to DATA until
 * the test lets it go, and the test counts what it received; the workers are called directly.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { DEFAULT_LEASE_MS } from "../src/mail/mod.ts";
import { type TestApp, until } from "./helpers.ts";
import { set, withApp } from "./jmap_helpers.ts";
import { createUsers, type Obj, type Who } from "./mail_helpers.ts";
import { call, draft, send } from "./submission_helpers.ts";

/** A smarthost whose answers to DATA wait until `release()`; `received` counts every message it took. */
async function slowSmarthost() {
  const received: string[] = [];
  const held: (() => void)[] = [];
  let open = false;
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS", "AUTH"],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      stream.on("data", () => {});
      stream.on("end", () => {
        received.push(session.envelope.rcptTo.map((r) => r.address).join(","));
        const answer = () => callback(null, "2.0.0 Queued");
        if (open) answer();
        else held.push(answer);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return {
    port,
    received,
    /** Messages whose answer is being held. */
    get holding() {
      return held.length;
    },
    /** Answers every held message, and every later one at once. */
    release() {
      open = true;
      for (const answer of held.splice(0)) answer();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A worker run once in another process on the same database: the due loop's or the queue's; its count. */
async function inAnotherProcess(t: TestApp, worker: "sendDue" | "runDue", when: number): Promise<number> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-check",
      new URL("./send_due_process.ts", import.meta.url).pathname,
      t.dataDir,
      String(when),
      worker,
    ],
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  assert.ok(output.success && /^\d+$/.test(text), new TextDecoder().decode(output.stderr) + text);
  return Number(text);
}

type Host = Awaited<ReturnType<typeof slowSmarthost>>;

async function withSlowSmarthost(
  body: (t: TestApp, alice: Who, host: Host) => Promise<void>,
  outbound: Obj = {},
) {
  const host = await slowSmarthost();
  try {
    await withApp(async (t) => {
      const [alice] = await createUsers(t, ["alice"]);
      const changed = await set(t, "x:Smarthost", {
        update: { singleton: { host: "127.0.0.1", port: host.port, security: "none", timeoutSeconds: 30 } },
      });
      assert.deepEqual(changed.updated, { singleton: null }, JSON.stringify(changed));
      const routed = await set(t, "x:Outbound", {
        update: { singleton: { route: "smarthost", ...outbound } },
      });
      assert.deepEqual(routed.updated, { singleton: null }, JSON.stringify(routed));
      try {
        await body(t, alice, host);
      } finally {
        host.release();
        await t.services.queue.idle();
      }
    });
  } finally {
    await host.close();
  }
}

/** Submissions of `count` drafts to outside addresses, held for an hour (or sent now); their ids. */
async function submissions(t: TestApp, alice: Who, count: number, hold = true): Promise<string[]> {
  const identity = ((await call(t, alice, "Identity/get", { ids: null })).list as Obj[])[0];
  const create: Record<string, Obj> = {};
  for (let i = 0; i < count; i++) {
    const address = `friend${i}@elsewhere.example`;
    const emailId = await draft(t, alice, { to: [{ name: null, email: address }], subject: `held ${i}` });
    create[`s${i}`] = {
      identityId: identity.id,
      emailId,
      envelope: {
        mailFrom: { email: alice.emailAddress, parameters: hold ? { HOLDFOR: "3600" } : null },
        rcptTo: [{ email: address, parameters: null }],
      },
    };
  }
  const created = (await call(t, alice, "EmailSubmission/set", { create })).created as Record<string, Obj>;
  assert.equal(Object.keys(created ?? {}).length, count);
  return Object.values(created).map((s) => s.id as string);
}

const undoStatusOf = async (t: TestApp, alice: Who, ids: string[]) =>
  ((await call(t, alice, "EmailSubmission/get", { ids, properties: ["undoStatus"] })).list as Obj[])
    .map((s) => s.undoStatus);

const cancel = (t: TestApp, alice: Who, id: string) =>
  call(t, alice, "EmailSubmission/set", { update: { [id]: { undoStatus: "canceled" } } });

const AN_HOUR_LATER = () => Date.now() + 3_700_000;

Deno.test("ten held submissions are queued once by three due loops, and delivered once each although the queue's worker runs again while the smarthost is slow", async () => {
  await withSlowSmarthost(async (t, alice, host) => {
    const ids = await submissions(t, alice, 10);
    const when = AN_HOUR_LATER();
    const handed = await Promise.all([1, 2, 3].map(() => t.services.submissions.sendDue(when)));
    assert.equal(handed.reduce((a, b) => a + b), 10, `the loops handed over ${handed.join(" + ")}`);
    assert.deepEqual(await undoStatusOf(t, alice, ids), ids.map(() => "pending"), "queued, not tried yet");
    const first = t.services.queue.runDue(when);
    await until(() => host.holding === 4, "four deliveries (perDomainConcurrency) reach the smarthost");
    // The timer fires again while the first deliveries wait for the smarthost, and once more.
    const again = [t.services.queue.runDue(when), t.services.queue.runDue(when)];
    host.release();
    let delivered = (await Promise.all([first, ...again])).reduce((a, b) => a + b);
    for (let started = 1; started > 0; delivered += started) started = await t.services.queue.runDue(when);
    assert.equal(delivered, 10, "ten deliveries in all");
    assert.equal(host.received.length, 10, `the smarthost received ${host.received.length} messages`);
    assert.equal(new Set(host.received).size, 10, "each submission once");
    assert.deepEqual(await undoStatusOf(t, alice, ids), ids.map(() => "final"));
    assert.equal(await t.services.submissions.sendDue(when), 0, "nothing is left to hand over");
  });
});

Deno.test("a submission sent at once is queued with it; the due loops leave it alone and another process's queue worker does not take it while this one delivers it", async () => {
  await withSlowSmarthost(async (t, alice, host) => {
    const emailId = await draft(t, alice, { to: [{ name: null, email: "friend@elsewhere.example" }] });
    const id = ((await send(t, alice, emailId)).created as Record<string, Obj>).s.id as string;
    assert.equal(await t.services.submissions.sendDue(), 0, "this server's due loop leaves it alone");
    assert.equal(await inAnotherProcess(t, "sendDue", Date.now()), 0, "so does another process's");
    const delivering = t.services.queue.runDue();
    await until(() => host.holding === 1, "the delivery reaches the smarthost");
    assert.equal(
      await inAnotherProcess(t, "runDue", Date.now()),
      0,
      "the other process's worker finds it claimed",
    );
    host.release();
    assert.equal(await delivering, 1);
    assert.deepEqual(await undoStatusOf(t, alice, [id]), ["final"]);
    assert.equal(host.received.length, 1, `the smarthost received ${host.received.length} messages`);
  });
});

Deno.test("two processes on one database running the queue at once deliver each message once", async () => {
  await withSlowSmarthost(async (t, alice, host) => {
    await submissions(t, alice, 4, false);
    const when = Date.now();
    const here = t.services.queue.runDue(when);
    await until(() => host.holding === 1, "this process's delivery reaches the smarthost");
    const there = inAnotherProcess(t, "runDue", when);
    await until(() => host.holding === 2, "the other process delivers another message");
    host.release();
    let delivered = (await Promise.all([here, there])).reduce((a, b) => a + b);
    for (let started = 1; started > 0; delivered += started) started = await t.services.queue.runDue(when);
    assert.equal(delivered, 4);
    assert.equal(host.received.length, 4, `the smarthost received ${host.received.length} messages`);
    assert.equal(new Set(host.received).size, 4, "each message once");
  }, { perDomainConcurrency: 1 });
});

Deno.test("a queued submission can be canceled until its delivery is claimed: then cannotUnsend, and it goes once", async () => {
  await withSlowSmarthost(async (t, alice, host) => {
    const [id, untouched] = await submissions(t, alice, 2, false);
    // Queued, not tried: it can be canceled, and is never delivered.
    assert.deepEqual((await cancel(t, alice, untouched)).updated, { [untouched]: null });
    const sending = t.services.queue.runDue();
    await until(() => host.holding === 1, "the delivery reaches the smarthost");
    const refused = await cancel(t, alice, id);
    const error = (refused.notUpdated as Record<string, Obj> | null)?.[id];
    assert.equal(error?.type, "cannotUnsend", JSON.stringify(refused));
    assert.match(String(error?.description), /being sent/);
    host.release();
    assert.equal(await sending, 1, "only the one not canceled");
    assert.deepEqual(await undoStatusOf(t, alice, [id, untouched]), ["final", "canceled"]);
    assert.equal(host.received.length, 1);
    assert.equal(await t.services.queue.runDue(AN_HOUR_LATER()), 0, "the canceled one never goes");
  });
});

Deno.test("a lease whose worker never finished runs out, and the delivery is tried again", async () => {
  await withSlowSmarthost(async (t, alice, host) => {
    const [id] = await submissions(t, alice, 1, false);
    const when = Date.now();
    // A worker claims it and never comes back (here: it waits on the smarthost for the whole test).
    const stuck = t.services.queue.runDue(when, { wait: false });
    await until(() => host.holding === 1, "the delivery reaches the smarthost");
    assert.equal(await stuck, 1);
    assert.equal(
      await t.services.queue.runDue(when + DEFAULT_LEASE_MS - 1, { wait: false }),
      0,
      "the lease holds",
    );
    const refused = await cancel(t, alice, id);
    assert.equal((refused.notUpdated as Record<string, Obj>)[id].type, "cannotUnsend");
    const retry = t.services.queue.runDue(when + DEFAULT_LEASE_MS + 1);
    await until(() => host.holding === 2, "the retry reaches the smarthost");
    host.release();
    assert.equal(await retry, 1);
    // At least once: the smarthost took the message from both workers.
    assert.equal(host.received.length, 2);
    assert.deepEqual(await undoStatusOf(t, alice, [id]), ["final"]);
  });
});
