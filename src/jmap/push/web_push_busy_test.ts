import assert from "node:assert/strict";
import type { PushSubscriptionRecord, PushSubscriptionService } from "../../mail/mod.ts";
import { UnavailableError } from "../../model/errors.ts";
import type { Changed, PushHub } from "./push_hub.ts";
import { WebPushSender } from "./web_push.ts";

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("a push service answering 410 while the database is busy: forgetting the subscription is retried, and no rejection escapes", async () => {
  // The push service: the subscription is gone.
  const gone = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(null, { status: 410 }),
  );
  const record: PushSubscriptionRecord = {
    id: 7,
    accountId: 1,
    deviceClientId: "d",
    url: `http://127.0.0.1:${gone.addr.port}/push`,
    keys: null,
    verificationCode: "v",
    verified: true,
    expires: Date.now() + 3_600_000,
    types: null,
    credentialId: null,
  } as PushSubscriptionRecord;
  let forgetCalls = 0;
  let forgotten = false;
  const subscriptions = {
    onChange: undefined,
    active: () => Promise.resolve(forgotten ? [] : [record]),
    isActive: () => Promise.resolve(true),
    pruneExpired: () => Promise.resolve(0),
    forget: () => {
      forgetCalls++;
      // The database is held by another process for the first two tries (a synchronous throw, as the store does).
      if (forgetCalls <= 2) throw new UnavailableError("The database is busy");
      forgotten = true;
      return Promise.resolve();
    },
  } as unknown as PushSubscriptionService;
  let notify: ((changed: Changed) => void) | undefined;
  const hub = {
    listen: (listener: { notify: (changed: Changed) => void }) => {
      notify = listener.notify;
      return Promise.resolve(() => {});
    },
  } as unknown as PushHub;
  const warnings: string[] = [];
  const log = {
    warn: (message: string) => warnings.push(message),
    info: () => {},
    error: () => {},
  } as unknown as ConstructorParameters<typeof WebPushSender>[0]["log"];
  const sender = new WebPushSender({ hub, subscriptions, log, privateTargets: true });
  const rejections: unknown[] = [];
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    rejections.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  try {
    await sender.start();
    assert.ok(notify, "the sender listens for the verified subscription");
    notify({ a: { Email: "s1" } });
    await until(() => forgotten, "the subscription to be forgotten once the database is free");
    assert.equal(forgetCalls, 3);
    assert.deepEqual(rejections, []);
    assert.equal(warnings.filter((w) => w.includes("waits")).length, 1, warnings.join("\n"));
  } finally {
    globalThis.removeEventListener("unhandledrejection", onRejection);
    sender.stop();
    await gone.shutdown();
  }
});
