/**
 * Signing in the delivery worker (src/mail/queue_worker.ts): a submission to remote recipients only
 * is queued unsigned, so EmailSubmission/set does not wait for two signatures; the first attempt
 * signs it and stores the signed bytes, and every attempt after it (a retry, the message's other
 * domain) sends exactly those bytes, which mailauth verifies against the published keys.
 */
import assert from "node:assert/strict";
import type { TestApp } from "./helpers.ts";
import { ADMIN, set } from "./jmap_helpers.ts";
import type { Obj } from "./mail_helpers.ts";
import { MINUTE, statusOf, submitTo, withQueueApp } from "./queue_helpers.ts";
import { resolverOf, verifyDkim } from "./dkim_helpers.ts";

const published = async (
  t: TestApp,
  domain: string,
) => ((((await set(t, "x:Action", { create: { a: { "@type": "DnsRecords", domain } } }, {
  auth: ADMIN,
  accountId: "b",
})).created as Obj).a as Obj).records as Obj[]);

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("mail to remote recipients only is queued unsigned, signed once at its first attempt, and every attempt sends the same signed bytes", () =>
  withQueueApp(["451 4.3.0 Try again later", "250 2.0.0 Ok"], async (t, transport, alice) => {
    const id = await submitTo(t, alice, ["carol@one.example", "dave@two.example"], "Signed later");
    const [queued] = await t.services.store.queue.list();
    assert.equal(queued.signPending, true, "queued unsigned");
    assert.doesNotMatch(text((await t.services.store.queue.content(queued.id))!), /^DKIM-Signature:/im);

    const start = Date.now();
    assert.equal(await t.services.queue.runDue(start), 2, "one delivery per domain");
    assert.equal(transport.asked.length, 2);
    const [first, second] = transport.asked.map((a) => text(a.message.message));
    assert.equal(first, second, "both domains got the same bytes");
    assert.equal(first.match(/^DKIM-Signature:/gim)?.length, 2, first.slice(0, 1500));
    const stored = (await t.services.store.queue.get(queued.id))!;
    assert.equal(stored.signPending, false);
    assert.equal(
      text((await t.services.store.queue.content(queued.id))!),
      first,
      "the signed bytes are stored",
    );
    assert.equal(stored.size, new TextEncoder().encode(first).length);

    // One domain was deferred: its retry sends what was stored, not a new signature.
    assert.equal(await t.services.queue.runDue(start + 5 * MINUTE + 1000), 1);
    assert.equal(transport.asked.length, 3);
    assert.equal(text(transport.asked[2].message.message), first, "the retry sent the same bytes");
    const retried = transport.asked[2].message.recipients[0];
    assert.equal((await statusOf(t, alice, id, retried)).delivered, "yes");

    const verified = await verifyDkim(first, resolverOf(await published(t, "example.org")));
    assert.deepEqual(verified.map((v) => [v.algorithm, v.result]).sort(), [
      ["ed25519-sha256", "pass"],
      ["rsa-sha256", "pass"],
    ]);
    assert.doesNotMatch(first, /^Bcc:/im);
  }));
