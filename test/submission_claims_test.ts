/**
 * Sending through a smarthost that answers slowly (issue 18, item 15): each submission is claimed in
 * the database before it is sent, so the due loop running again, an EmailSubmission/set sending at
 * once, and a second server on the same database never send one twice; a submission being sent can
 * no longer be canceled (cannotUnsend); a claim that runs out (its worker died) is sent again. The
 * smarthost (smtp-server on 127.0.0.1) holds its answer to DATA until the test lets it go, and the
 * test counts what it received; the loop is called directly, never waited for on a clock.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
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

/** The due-submission worker run once in another process on the same database; how many it sent. */
async function sendDueInAnotherProcess(t: TestApp, when: number): Promise<number> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-check",
      new URL("./send_due_process.ts", import.meta.url).pathname,
      t.dataDir,
      String(when),
    ],
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  assert.ok(output.success && /^\d+$/.test(text), new TextDecoder().decode(output.stderr) + text);
  return Number(text);
}

type Host = Awaited<ReturnType<typeof slowSmarthost>>;

async function withSlowSmarthost(body: (t: TestApp, alice: Who, host: Host) => Promise<void>) {
  const host = await slowSmarthost();
  try {
    await withApp(async (t) => {
      const [alice] = await createUsers(t, ["alice"]);
      const changed = await set(t, "x:Smarthost", {
        update: { singleton: { host: "127.0.0.1", port: host.port, security: "none", timeoutSeconds: 30 } },
      });
      assert.deepEqual(changed.updated, { singleton: null }, JSON.stringify(changed));
      try {
        await body(t, alice, host);
      } finally {
        host.release();
      }
    });
  } finally {
    await host.close();
  }
}

/** Submissions of `count` drafts to outside addresses, held for an hour; their ids. */
async function heldSubmissions(t: TestApp, alice: Who, count: number): Promise<string[]> {
  const identity = ((await call(t, alice, "Identity/get", { ids: null })).list as Obj[])[0];
  const create: Record<string, Obj> = {};
  for (let i = 0; i < count; i++) {
    const address = `friend${i}@elsewhere.example`;
    const emailId = await draft(t, alice, { to: [{ name: null, email: address }], subject: `held ${i}` });
    create[`s${i}`] = {
      identityId: identity.id,
      emailId,
      envelope: {
        mailFrom: { email: alice.emailAddress, parameters: { HOLDFOR: "3600" } },
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

const AN_HOUR_LATER = () => Date.now() + 3_700_000;

Deno.test("ten held submissions are sent ten times although the due loop runs again while the smarthost is slow", async () => {
  await withSlowSmarthost(async (t, alice, host) => {
    const ids = await heldSubmissions(t, alice, 10);
    const when = AN_HOUR_LATER();
    const first = t.services.submissions.sendDue(when);
    await until(() => host.holding === 1, "the first send reaches the smarthost");
    // The timer fires again while the first loop waits for the smarthost, and once more.
    const second = t.services.submissions.sendDue(when);
    const third = t.services.submissions.sendDue(when);
    host.release();
    const counts = await Promise.all([first, second, third]);
    assert.equal(counts.reduce((a, b) => a + b), 10, `the loops sent ${counts.join(" + ")}`);
    assert.equal(host.received.length, 10, `the smarthost received ${host.received.length} messages`);
    assert.equal(new Set(host.received).size, 10, "each submission once");
    assert.deepEqual(await undoStatusOf(t, alice, ids), ids.map(() => "final"));
    assert.equal(await t.services.submissions.sendDue(when), 0, "nothing is left to send");
  });
});

Deno.test("a submission sent at once by EmailSubmission/set is not sent again by the due loop of this or another process", async () => {
  await withSlowSmarthost(async (t, alice, host) => {
    const emailId = await draft(t, alice, { to: [{ name: null, email: "friend@elsewhere.example" }] });
    const submitting = send(t, alice, emailId);
    await until(() => host.holding === 1, "the submission reaches the smarthost");
    assert.equal(await t.services.submissions.sendDue(), 0, "this server's loop leaves it alone");
    assert.equal(await sendDueInAnotherProcess(t, Date.now()), 0, "so does another process's");
    host.release();
    const id = ((await submitting).created as Record<string, Obj>).s.id as string;
    assert.deepEqual(await undoStatusOf(t, alice, [id]), ["final"]);
    assert.equal(host.received.length, 1, `the smarthost received ${host.received.length} messages`);
  });
});

Deno.test("two processes on one database running the due loop at once send each held submission once", async () => {
  await withSlowSmarthost(async (t, alice, host) => {
    await heldSubmissions(t, alice, 4);
    const when = AN_HOUR_LATER();
    const here = t.services.submissions.sendDue(when);
    await until(() => host.holding === 1, "the first send reaches the smarthost");
    const there = sendDueInAnotherProcess(t, when);
    await until(() => host.holding === 2, "the other process sends another submission");
    host.release();
    const counts = await Promise.all([here, there]);
    assert.equal(counts[0] + counts[1], 4, `the processes sent ${counts.join(" + ")}`);
    assert.equal(host.received.length, 4, `the smarthost received ${host.received.length} messages`);
    assert.equal(new Set(host.received).size, 4, "each submission once");
  });
});

Deno.test("a held submission being sent can no longer be canceled: cannotUnsend, and it is sent once", async () => {
  await withSlowSmarthost(async (t, alice, host) => {
    const [id, untouched] = await heldSubmissions(t, alice, 2);
    // Still held: it can be canceled.
    const canceled = await call(t, alice, "EmailSubmission/set", {
      update: { [untouched]: { undoStatus: "canceled" } },
    });
    assert.deepEqual(canceled.updated, { [untouched]: null });
    const sending = t.services.submissions.sendDue(AN_HOUR_LATER());
    await until(() => host.holding === 1, "the send reaches the smarthost");
    const refused = await call(t, alice, "EmailSubmission/set", {
      update: { [id]: { undoStatus: "canceled" } },
    });
    const error = (refused.notUpdated as Record<string, Obj> | null)?.[id];
    assert.equal(error?.type, "cannotUnsend", JSON.stringify(refused));
    assert.match(String(error?.description), /being sent/);
    host.release();
    assert.equal(await sending, 1);
    assert.deepEqual(await undoStatusOf(t, alice, [id, untouched]), ["final", "canceled"]);
    assert.equal(host.received.length, 1);
  });
});

Deno.test("a claim whose worker never finished runs out after the smarthost timeouts, and the submission is sent again", async () => {
  await withSlowSmarthost(async (t, alice, host) => {
    const [id] = await heldSubmissions(t, alice, 1);
    const when = AN_HOUR_LATER();
    // A worker claims it and never comes back (here: it waits on the smarthost for the whole test).
    const stuck = t.services.submissions.sendDue(when);
    await until(() => host.holding === 1, "the send reaches the smarthost");
    // The claim lasts the longest send 30-second timeouts allow for one recipient (12 waits) plus a minute.
    const claim = 30_000 * 12 + 60_000;
    assert.equal(await t.services.submissions.sendDue(when + claim - 1), 0, "the claim still holds");
    const refused = await call(t, alice, "EmailSubmission/set", {
      update: { [id]: { undoStatus: "canceled" } },
    });
    assert.equal((refused.notUpdated as Record<string, Obj>)[id].type, "cannotUnsend");
    const retry = t.services.submissions.sendDue(when + claim + 1);
    await until(() => host.holding === 2, "the retry reaches the smarthost");
    host.release();
    assert.deepEqual(await Promise.all([stuck, retry]), [1, 1]);
    // At least once: the smarthost took the message from both workers.
    assert.equal(host.received.length, 2);
    assert.deepEqual(await undoStatusOf(t, alice, [id]), ["final"]);
  });
});
