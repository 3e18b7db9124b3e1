/** What every surface of the fuzz harness shares: the server, the client, and ids seen so far. */
import type { FuzzClient, FuzzRequest } from "./client.ts";
import type { Random } from "./random.ts";
import type { Actor, FuzzServer } from "./server.ts";

/** The shared state of one fuzz run. */
export interface FuzzContext {
  server: FuzzServer;
  client: FuzzClient;
  /** Ids seen in answers, by kind (emails, blobs, threads, and each x: type), to aim requests at. */
  seen: Map<string, string[]>;
  /** Ids, by data type ("x:Account", "Mailbox"…), that fuzzed updates and destroys leave alone. */
  protectedIds: Map<string, Set<string>>;
  /** The largest MIME message the mime surface generates, in bytes. */
  maxMessageBytes: number;
}

/** One round of a surface: sends one or a few requests, throws FuzzFailure when the server fails. */
export type Surface = (rng: Random, ctx: FuzzContext) => Promise<void>;

const SEEN_PER_KIND = 50;

/** Remembers an id of `kind` (the newest 50 are kept). */
export function remember(ctx: FuzzContext, kind: string, id: unknown): void {
  if (typeof id !== "string" || id.length > 100) return;
  const list = ctx.seen.get(kind) ?? [];
  if (!list.includes(id)) list.push(id);
  if (list.length > SEEN_PER_KIND) list.shift();
  ctx.seen.set(kind, list);
}

/** An id of `kind` seen before, or a made-up one. */
export function someId(rng: Random, ctx: FuzzContext, kind: string): string {
  const list = ctx.seen.get(kind) ?? [];
  if (list.length > 0 && rng.chance(0.8)) return rng.pick(list);
  return rng.pick(["b", "c", "d", "zz", "Mx", "0", "-1", "a".repeat(300), ctx.server.user.accountId]);
}

/** The fuzz principals, chosen at random. */
export function someActor(rng: Random, ctx: FuzzContext): Actor {
  return rng.chance(0.5) ? ctx.server.admin : ctx.server.user;
}

/**
 * A JMAP API request as `actor`. The management types' ids that keep the run going (the two fuzz
 * accounts, their domain and keys) are taken out of updates and destroys first: the harness must
 * not lock itself out, and those refusals are tested elsewhere.
 */
export function jmapRequest(
  ctx: FuzzContext,
  actor: Actor,
  body: unknown,
  headers: Record<string, string> = {},
): FuzzRequest {
  if (typeof body !== "string") protect(ctx, body);
  return {
    method: "POST",
    path: "/jmap",
    headers: { authorization: actor.bearer, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

/** The method responses of a JMAP answer, or none. */
export function responsesOf(json: unknown): [string, Record<string, unknown>, string][] {
  const calls = (json as { methodResponses?: unknown } | undefined)?.methodResponses;
  return Array.isArray(calls) ? calls as [string, Record<string, unknown>, string][] : [];
}

/** Takes the protected ids out of every /set call's update and destroy (in place). */
function protect(ctx: FuzzContext, body: unknown): void {
  const calls = (body as { methodCalls?: unknown } | null)?.methodCalls;
  if (!Array.isArray(calls)) return;
  for (const call of calls) {
    if (!Array.isArray(call) || typeof call[0] !== "string" || !call[0].endsWith("/set")) continue;
    const kept = ctx.protectedIds.get(call[0].slice(0, -4));
    const args = call[1] as Record<string, unknown> | null;
    if (!kept || typeof args !== "object" || args === null) continue;
    if (Array.isArray(args.destroy)) args.destroy = args.destroy.filter((id) => !kept.has(id as string));
    const update = args.update;
    if (typeof update === "object" && update !== null && !Array.isArray(update)) {
      for (const id of Object.keys(update)) if (kept.has(id)) delete (update as Record<string, unknown>)[id];
    }
  }
}
