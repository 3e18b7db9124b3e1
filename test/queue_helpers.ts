/**
 * Helpers for the outbound queue's tests: a scripted transport that answers each delivery with the
 * next result of its script and records what it was asked, an app that delivers by MX through it,
 * and the JMAP views of a submission and an Inbox.
 */
import assert from "node:assert/strict";
import type { OutboundMessage, OutboundTransport, RecipientResult, Route } from "../src/outbound/mod.ts";
import { startTestApp, type TestApp } from "./helpers.ts";
import { createUsers, mailCall, type Obj, type Who } from "./mail_helpers.ts";
import { call, draft, send } from "./submission_helpers.ts";

/** One delivery the transport was asked for. */
export interface Asked {
  domain: string;
  route: Route;
  message: OutboundMessage;
}

/** A transport answering every recipient of each delivery with the next reply of `script` (the last repeats). */
export class ScriptedTransport implements OutboundTransport {
  readonly asked: Asked[] = [];
  constructor(public script: string[]) {}

  deliver(domain: string, route: Route, message: OutboundMessage): Promise<Record<string, RecipientResult>> {
    this.asked.push({ domain, route, message });
    const reply = this.script.length > 1 ? this.script.shift()! : this.script[0];
    const kind = reply.startsWith("2") ? "delivered" : reply.startsWith("5") ? "permanent" : "temporary";
    return Promise.resolve(
      Object.fromEntries(
        message.recipients.map((r) => [r, { reply, kind, remoteMta: `mx.${domain} [192.0.2.1]` }]),
      ),
    );
  }
}

/** Runs `body` with an app delivering by MX through a scripted transport, and users alice and bob. */
export async function withQueueApp(
  script: string[],
  body: (t: TestApp, transport: ScriptedTransport, alice: Who, bob: Who) => Promise<void>,
): Promise<void> {
  const transport = new ScriptedTransport(script);
  const t = await startTestApp({ outboundTransport: transport });
  try {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    await body(t, transport, alice, bob);
  } finally {
    await t.services.queue.idle();
    await t.close();
  }
}

/** Sends a draft of `from` to `to`; the submission's id. */
export async function submitTo(t: TestApp, from: Who, to: string[], subject = "Hello"): Promise<string> {
  const emailId = await draft(t, from, { to: to.map((email) => ({ name: null, email })), subject });
  const set = await send(t, from, emailId);
  const created = (set.created as Record<string, Obj> | null)?.s;
  assert.ok(created, JSON.stringify(set));
  return created.id as string;
}

/** A submission as EmailSubmission/get shows it. */
export async function submission(t: TestApp, who: Who, id: string): Promise<Obj> {
  const [found] = (await call(t, who, "EmailSubmission/get", { ids: [id] })).list as Obj[];
  assert.ok(found, `submission ${id}`);
  return found;
}

/** One recipient's deliveryStatus. */
export async function statusOf(t: TestApp, who: Who, id: string, recipient: string): Promise<Obj> {
  return ((await submission(t, who, id)).deliveryStatus as Record<string, Obj>)[recipient];
}

/** The subjects of the emails in the Inbox of `who`. */
export async function inboxSubjects(t: TestApp, who: Who): Promise<string[]> {
  const inbox = ((await mailCall(t, "Mailbox/get", { ids: null }, who)).list as Obj[])
    .find((m) => m.role === "inbox")!;
  const ids = (await mailCall(t, "Email/query", { filter: { inMailbox: inbox.id } }, who)).ids as string[];
  if (ids.length === 0) return [];
  const list = (await mailCall(t, "Email/get", { ids, properties: ["subject"] }, who)).list as Obj[];
  return list.map((e) => String(e.subject)).sort();
}

/** The text bodies of the emails in the Inbox of `who`. */
export async function inboxTexts(t: TestApp, who: Who): Promise<string[]> {
  const inbox = ((await mailCall(t, "Mailbox/get", { ids: null }, who)).list as Obj[])
    .find((m) => m.role === "inbox")!;
  const ids = (await mailCall(t, "Email/query", { filter: { inMailbox: inbox.id } }, who)).ids as string[];
  if (ids.length === 0) return [];
  const list = (await mailCall(t, "Email/get", {
    ids,
    properties: ["bodyValues", "textBody"],
    fetchTextBodyValues: true,
  }, who)).list as Obj[];
  return list.map((e) => Object.values(e.bodyValues as Record<string, Obj>).map((v) => v.value).join("\n"));
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
