/**
 * A queue to manage in the queue administration tests: messages put straight into the store, one of
 * them deferred after a temporary failure, one failed for good, one waiting for its first attempt.
 */
import { resolveConfig } from "../src/config/mod.ts";
import { openData } from "../src/server.ts";
import type { Store } from "../src/store/mod.ts";
import { encodeId } from "../src/model/ids.ts";

/** The wire ids of the seeded messages. */
export interface SeededQueue {
  /** Two recipients at remote.example: one deferred (451, next attempt in an hour), one delivered. */
  deferred: string;
  /** One recipient at other.example, never tried. */
  queued: string;
  /** A bounce (null sender) to faraway.example refused with 550. */
  failed: string;
}

const HOUR = 3_600_000;

const message = (subject: string) =>
  new TextEncoder().encode(`From: alice@example.org\r\nSubject: ${subject}\r\n\r\nHello\r\n`);

/** Queues the three messages of {@link SeededQueue} at `now`. */
export async function seedQueue(store: Store, now = Date.now()): Promise<SeededQueue> {
  const enqueue = (mailFrom: string, recipients: string[], subject: string) =>
    store.queue.enqueue({
      accountId: null,
      submissionId: null,
      kind: mailFrom === "" ? "bounce" : "submission",
      mailFrom,
      message: message(subject),
      recipients,
      createdAt: now - HOUR,
    });
  const deferred = await enqueue("alice@example.org", ["bob@remote.example", "carol@remote.example"], "One");
  await store.queue.claim(deferred, "remote.example", now, now + 60_000);
  await store.queue.record(deferred, [
    {
      recipient: "bob@remote.example",
      state: "deferred",
      reply: "451 4.3.0 Try later",
      nextAttemptAt: now + HOUR,
    },
    { recipient: "carol@remote.example", state: "delivered", reply: "250 2.0.0 Ok" },
  ], now);
  const queued = await enqueue("alice@example.org", ["dave@other.example"], "Two");
  await store.queue.claim(queued, "other.example", now, now + 60_000);
  await store.queue.release(queued, "other.example");
  const failed = await enqueue("", ["erin@faraway.example"], "Three");
  await store.queue.claim(failed, "faraway.example", now, now + 60_000);
  await store.queue.record(failed, [
    { recipient: "erin@faraway.example", state: "failed", reply: "550 5.1.1 No such user" },
  ], now);
  return { deferred: encodeId(deferred), queued: encodeId(queued), failed: encodeId(failed) };
}

/** Seeds the queue of the database in `dataDir` (from this process, as another process would). */
export async function seedQueueAt(dataDir: string): Promise<SeededQueue> {
  const { services } = await openData(resolveConfig({ data: dataDir }, {}));
  try {
    return await seedQueue(services.store);
  } finally {
    await services.close();
  }
}
