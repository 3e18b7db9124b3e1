/**
 * x:Outbound leaseSeconds is how long a worker holds a delivery it claimed: a delivery that never
 * ends (its worker lost) is claimed again once the lease has run out, not before, and the late
 * outcome of the first worker changes nothing.
 */
import assert from "node:assert/strict";
import type { OutboundMessage, OutboundTransport, RecipientResult, Route } from "../src/outbound/mod.ts";
import { startTestApp, until } from "./helpers.ts";
import { set } from "./jmap_helpers.ts";
import { createUsers } from "./mail_helpers.ts";
import { SECOND, statusOf, submitTo } from "./queue_helpers.ts";

/** A transport whose first delivery hangs until `release`; the others are accepted at once. */
class HangingTransport implements OutboundTransport {
  calls = 0;
  #release?: () => void;
  release(): void {
    this.#release?.();
  }
  async deliver(_domain: string, _route: Route, message: OutboundMessage) {
    if (this.calls++ === 0) await new Promise<void>((resolve) => this.#release = resolve);
    const result: RecipientResult = { reply: `250 2.0.0 Ok: call ${this.calls}`, kind: "delivered" };
    return Object.fromEntries(message.recipients.map((r) => [r, result]));
  }
}

Deno.test("a delivery held past x:Outbound leaseSeconds is claimed again, not before; the late outcome changes nothing", async () => {
  const transport = new HangingTransport();
  const t = await startTestApp({ outboundTransport: transport });
  try {
    const [alice] = await createUsers(t, ["alice"]);
    const changed = await set(t, "x:Outbound", { update: { singleton: { leaseSeconds: 60 } } });
    assert.deepEqual(changed.updated, { singleton: null }, JSON.stringify(changed));
    const id = await submitTo(t, alice, ["carol@remote.example"]);
    const when = Date.now();
    assert.equal(await t.services.queue.runDue(when, { wait: false }), 1, "the first worker hangs");
    assert.equal(
      await t.services.queue.runDue(when + 60 * SECOND - 1, { wait: false }),
      0,
      "its lease holds",
    );
    assert.equal(await t.services.queue.runDue(when + 60 * SECOND + 1, { wait: false }), 1, "then runs out");
    await until(
      async () => (await statusOf(t, alice, id, "carol@remote.example")).delivered === "yes",
      "delivered",
    );
    transport.release();
    await t.services.queue.idle();
    const status = await statusOf(t, alice, id, "carol@remote.example");
    assert.equal(status.smtpReply, "250 2.0.0 Ok: call 2", "the second worker's outcome stands");
    const [queued] = await t.services.store.queue.list();
    assert.equal(queued.recipients[0].attempts, 1, "the first worker's late outcome was not recorded");
    assert.equal(transport.calls, 2);
  } finally {
    transport.release();
    await t.services.queue.idle();
    await t.close();
  }
});
