/**
 * Message authentication (authentication.ts) in worker threads: a few long-lived workers, each with
 * its own resolver on the configured DNS servers, take the checks in turn, so the event loop that
 * answers every SMTP session and JMAP request keeps only the receiving and the storing. Measured under
 * the inbound benchmark, mailauth and its DNS look-ups were about a fifth of the main thread's time.
 *
 * The checks asked for in one turn of the event loop go to a worker in one message, and a worker
 * answers the checks it finished in one turn in one message: each message between threads costs both
 * of them a wake-up and a turn of their loops whatever it holds (~40 µs of CPU for a 10 KB message or
 * an empty one, measured), and under the inbound bench several sessions end their DATA together.
 *
 * A worker that fails (or cannot start: the single-file bundle has no worker file beside it, and
 * keeps mailauth outside, see scripts/bundle.ts) is not replaced: its checks, and every later one, run on the main thread, so a
 * message is always checked.
 */
import { getLogger } from "@logtape/logtape";
import { setImmediate } from "node:timers";
import {
  type AuthenticationInput,
  type AuthenticationVerdict,
  MailAuthenticator,
  type ResolveFunction,
} from "./authentication.ts";
import type {
  AuthenticationAnswer,
  AuthenticationRequest,
  AuthenticationWorkerStart,
} from "./authentication_worker.ts";

/** Workers by default: one core is left to the event loop, as the parse pool does. */
export const AUTHENTICATION_WORKERS = Math.min(2, Math.max(1, (navigator.hardwareConcurrency || 1) - 1));

interface Slot {
  worker: Worker;
  pending: Map<number, { input: AuthenticationInput; resolve: (verdict: AuthenticationVerdict) => void }>;
  /** Checks not yet sent: they go together at the end of this turn. */
  outbox: AuthenticationRequest[];
  alive: boolean;
}

const log = getLogger(["postern", "mail", "authentication"]);

/** Checks messages in workers; same answers as {@link MailAuthenticator.check}. */
export class AuthenticationPool {
  readonly #slots: Slot[] = [];
  readonly #inline: MailAuthenticator;
  #next = 0;
  #ids = 0;

  constructor(
    options: AuthenticationWorkerStart & {
      /** The main thread's resolver, for checks no worker can take. */
      resolver: ResolveFunction;
      workers?: number;
    },
  ) {
    const { resolver, workers = AUTHENTICATION_WORKERS, ...start } = options;
    this.#inline = new MailAuthenticator({ ...start, resolver });
    for (let i = 0; i < workers; i++) this.#slots.push(this.#start(start));
  }

  #start(start: AuthenticationWorkerStart): Slot {
    // No embedded copy for the single-file bundle: there the worker fails to start (see above).
    const worker = new Worker(new URL("./authentication_worker.ts", import.meta.url), { type: "module" });
    const slot: Slot = { worker, pending: new Map(), outbox: [], alive: true };
    worker.onmessage = (event: MessageEvent<AuthenticationAnswer[]>) => {
      for (const { id, verdict } of event.data) {
        const request = slot.pending.get(id);
        if (!request) continue;
        slot.pending.delete(id);
        request.resolve({ ...verdict, message: verdict.message ?? request.input.message });
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      // Without preventDefault an uncaught worker error is rethrown in the main thread and ends the process.
      event.preventDefault();
      log.warn("A message authentication worker failed; its checks run on the main thread: {error}", {
        error: event.message,
      });
      this.#retire(slot);
    };
    worker.postMessage(start);
    return slot;
  }

  /** Takes a failed worker out of the turn and checks what it held on the main thread. */
  #retire(slot: Slot): void {
    if (!slot.alive) return;
    slot.alive = false;
    slot.outbox.length = 0;
    slot.worker.terminate();
    for (const { input, resolve } of slot.pending.values()) void this.#inline.check(input).then(resolve);
    slot.pending.clear();
  }

  /** Checks one message (see MailAuthenticator.check); never throws for anything the message or DNS holds. */
  check(input: AuthenticationInput): Promise<AuthenticationVerdict> {
    const alive = this.#slots.filter((slot) => slot.alive);
    if (alive.length === 0) return this.#inline.check(input);
    // The worker with the fewest checks in hand; turns break ties.
    let slot = alive[this.#next++ % alive.length];
    for (const other of alive) if (other.pending.size < slot.pending.size) slot = other;
    const id = ++this.#ids;
    return new Promise((resolve) => {
      slot.pending.set(id, { input, resolve });
      if (slot.outbox.push({ id, input }) > 1) return;
      // After the I/O callbacks already due, whose checks join this message (see mail/group_commit.ts).
      setImmediate(() => {
        if (!slot.alive || slot.outbox.length === 0) return;
        slot.worker.postMessage(slot.outbox.splice(0));
      });
    });
  }

  /** Ends the workers; checks still in hand finish on the main thread. */
  close(): void {
    for (const slot of this.#slots) this.#retire(slot);
  }
}
