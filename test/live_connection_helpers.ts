/**
 * Helpers of the long-lived connection tests: a JMAP WebSocket and an event stream against a server
 * process, with what they received and how they ended; JMAP calls as a user over HTTP.
 */
import assert from "node:assert/strict";
import { CORE, type JmapResult, MANAGEMENT } from "./jmap_helpers.ts";
import type { Obj, Target } from "./mail_helpers.ts";

/** How long a test waits for something that should happen within a second (never a timing assertion). */
export const GENEROUS_MS = 60_000;

/** Resolves with `promise`, or fails naming `what` after {@link GENEROUS_MS}. */
export async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${GENEROUS_MS} ms`)), GENEROUS_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** An open JMAP WebSocket: messages as they come, and how it closed. */
export class JmapSocket {
  readonly messages: Obj[] = [];
  readonly closed: Promise<CloseEvent>;
  #waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.onmessage = (event) => {
      this.messages.push(JSON.parse(event.data));
      for (const wake of this.#waiters.splice(0)) wake();
    };
    this.closed = new Promise((resolve) => socket.addEventListener("close", (event) => resolve(event)));
  }

  /** Opens `url` with the jmap subprotocol (and `authorization` when given); fails if refused. */
  static async open(url: string, authorization?: string): Promise<JmapSocket> {
    const socket = new WebSocket(url, {
      protocols: ["jmap"],
      ...(authorization ? { headers: { authorization } } : {}),
    } as never);
    await within(
      new Promise<void>((resolve, reject) => {
        socket.onopen = () => resolve();
        socket.onerror = (event) => reject(new Error(`WebSocket failed: ${(event as ErrorEvent).message}`));
        socket.onclose = (event) => reject(new Error(`WebSocket closed at once: ${event.code}`));
      }),
      `opening ${url.replace(/ticket=[^&]*/, "ticket=…")}`,
    );
    socket.onclose = null;
    return new JmapSocket(socket);
  }

  /** Sends a message; a socket the server already closed drops it (as a browser's does). */
  send(message: unknown): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** Sends a Request and waits for the message answering it. */
  async request(id: string, using: string[], methodCalls: unknown[]): Promise<Obj> {
    this.send({ "@type": "Request", id, using, methodCalls });
    return await within(this.next((m) => m.requestId === id), `an answer to ${id}`);
  }

  /** The first received message matching `test`, waiting as long as it takes. */
  async next(test: (m: Obj) => boolean): Promise<Obj> {
    for (;;) {
      const index = this.messages.findIndex(test);
      if (index !== -1) return this.messages.splice(index, 1)[0];
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  close(): Promise<unknown> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.socket.close();
    return this.closed;
  }
}

/** An open event stream, read to its end in the background. */
export class EventStream {
  /** Event names received so far. */
  readonly events: string[] = [];
  /** The data lines received so far (a StateChange's JSON). */
  readonly data: string[] = [];
  /** Resolves when the server ended the stream. */
  readonly ended: Promise<void>;
  #stopped = false;

  private constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {
    this.ended = (async () => {
      const decoder = new TextDecoder();
      let pending = "";
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done) return;
        // Whole lines only: a chunk may end in the middle of one.
        pending += decoder.decode(value, { stream: true });
        const end = pending.lastIndexOf("\n") + 1;
        const lines = pending.slice(0, end);
        pending = pending.slice(end);
        for (const match of lines.matchAll(/^event: (.*)$/gm)) this.events.push(match[1]);
        for (const match of lines.matchAll(/^data: (.*)$/gm)) this.data.push(match[1]);
      }
    })();
  }

  /** Opens the eventSourceUrl at `url` (200 asserted), with `authorization` when given. */
  static async open(url: string, authorization?: string): Promise<EventStream> {
    const response = await fetch(url, { headers: authorization ? { authorization } : {} });
    assert.equal(response.status, 200, await (response.status === 200 ? "" : response.text()));
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    return new EventStream(response.body!.getReader());
  }

  /** Whether the stream is still open (the server has not ended it). */
  async isOpen(): Promise<boolean> {
    const marker = Symbol();
    return await Promise.race([this.ended, Promise.resolve(marker)]) === marker;
  }

  async close(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.reader.cancel().catch(() => undefined);
    await this.ended;
  }
}

/** One JMAP call over HTTP with the management capability; returns the response arguments. */
export async function managementCall(target: Target, auth: string, name: string, args: Obj): Promise<Obj> {
  const response = await target.fetch("/jmap", {
    method: "POST",
    headers: { authorization: auth, "content-type": "application/json" },
    body: JSON.stringify({ using: [CORE, MANAGEMENT], methodCalls: [[name, args, "0"]] }),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const [[answered, result]] = (JSON.parse(text) as JmapResult).methodResponses;
  assert.equal(answered, name, text);
  return result;
}

/** Creates an API key for the account of `auth`; returns its id and its `Bearer` header. */
export async function apiKey(
  target: Target,
  who: { auth: string; accountId: string },
): Promise<{ id: string; bearer: string }> {
  const result = await managementCall(target, who.auth, "x:ApiKey/set", {
    accountId: who.accountId,
    create: { k: { description: "long-lived connection test" } },
  });
  assert.equal(result.notCreated, null, JSON.stringify(result));
  const created = (result.created as Record<string, Obj>).k;
  return { id: created.id as string, bearer: `Bearer ${created.secret}` };
}
