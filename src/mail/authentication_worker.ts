// Checks SPF, DKIM, DMARC and ARC off the main thread (see authentication_pool.ts): mailauth's parsing
// and hashing of each message and the DNS look-ups' own work would otherwise run on the event loop
// that answers every SMTP session. The worker asks its own resolver on the configured servers. It
// also gathers the message's facts for storing it (message_facts.ts): parsing it was the largest
// cost left on the main thread per delivered message.

import { setImmediate } from "node:timers";
import { DnsResolver, type DnsResolverOptions } from "../dns/mod.ts";
import { type AuthenticationInput, type AuthenticationVerdict, MailAuthenticator } from "./authentication.ts";
import { type MessageFacts, messageFacts } from "./message_facts.ts";

/** The first message: how to check (the resolver is made here from its servers). */
export interface AuthenticationWorkerStart {
  authservId: string;
  /** The resolver's servers and timeouts, as the main thread's. */
  dns: DnsResolverOptions;
  maxDkimSignatures?: number;
  deadlineMs?: number;
}

/** A check to make; answered with the same id. The main thread sends them in arrays (one per turn). */
export interface AuthenticationRequest {
  id: number;
  input: AuthenticationInput;
}

/**
 * The verdict, without its message when that is the one sent (no forged field was dropped). The worker
 * sends them in arrays: the checks it finished in one turn of its loop.
 */
export interface AuthenticationAnswer {
  id: number;
  verdict: Omit<AuthenticationVerdict, "message"> & { message: Uint8Array | null };
}

// Cast instead of `/// <reference lib="deno.worker" />`, which clashes with deno.window when the whole tree
// is type-checked in one program.
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<AuthenticationWorkerStart | AuthenticationRequest[]>) => void) | null;
  postMessage(message: AuthenticationAnswer[]): void;
};

let authenticator: MailAuthenticator | undefined;
/** Answers not yet sent: they go together at the end of this turn. */
const outbox: AuthenticationAnswer[] = [];

function answer(reply: AuthenticationAnswer): void {
  if (outbox.push(reply) > 1) return;
  setImmediate(() => scope.postMessage(outbox.splice(0)));
}

function check(request: AuthenticationRequest): void {
  // check() never throws for anything the message or DNS holds (see authentication.ts).
  void authenticator!.check(request.input).then((verdict) => {
    const message = verdict.message === request.input.message ? null : verdict.message;
    let facts: MessageFacts | undefined;
    try {
      facts = messageFacts(verdict.message);
    } catch {
      // The main thread parses it then, and meets the same problem where it is handled.
    }
    answer({ id: request.id, verdict: { ...verdict, message, facts } });
  });
}

scope.onmessage = (event) => {
  const data = event.data;
  if (!Array.isArray(data)) {
    const { dns, ...options } = data;
    authenticator = new MailAuthenticator({ ...options, resolver: new DnsResolver(dns).resolve });
    return;
  }
  for (const request of data) check(request);
};
