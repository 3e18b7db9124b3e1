/**
 * PushSubscription/get and /set (RFC 8620 §7.2): the user's own subscriptions, with no accountId and
 * no states. `url` and `keys` are written once and never returned; `verificationCode` is what the
 * client read from the PushVerification push, and `deviceClientId`, `url` and `keys` never change.
 * They are under the core capability, which any token may use, but what they deliver is mail state:
 * a scoped token needs the mail scope, as for EventSource and WebSocket push.
 */
import type {
  PushSubscriptionChanges,
  PushSubscriptionRecord,
  PushSubscriptionService,
} from "../../mail/mod.ts";
import { invalidProperty } from "../../model/errors.ts";
import { decodeId, encodeId } from "../../model/ids.ts";
import { readUtcDate, utcDate } from "../dates.ts";
import type { MethodContext, MethodDefinition } from "../engine.ts";
import { MethodError } from "../errors.ts";
import { Args } from "../standard/args.ts";
import { resolveCreationIds } from "../standard/creation_ids.ts";
import { pickByIds } from "../standard/data_type.ts";
import { refusedTarget } from "./push_targets.ts";
import { toSetError } from "../standard/set.ts";
import { CAPABILITY, type SetError } from "../types.ts";

const PROPERTIES = ["id", "deviceClientId", "url", "keys", "verificationCode", "expires", "types"];
/** Never returned (RFC 8620 §7.2: they are sent once, at creation). */
const HIDDEN = new Set(["url", "keys"]);

function toWire(s: PushSubscriptionRecord): Record<string, unknown> {
  return {
    id: encodeId(s.id),
    deviceClientId: s.deviceClientId,
    // The code the client sent back; null until it has.
    verificationCode: s.verified ? s.verificationCode : null,
    expires: utcDate(s.expires),
    types: s.types,
  };
}

function readDate(value: unknown, property: string): number | null {
  if (value === null) return null;
  const time = readUtcDate(value);
  if (time === undefined) {
    throw invalidProperty(property, "must be a UTCDate such as 2026-12-24T00:00:00Z, or null");
  }
  return time;
}

function readTypes(value: unknown): string[] | null {
  if (value === null) return null;
  if (!Array.isArray(value) || !value.every((t) => typeof t === "string" && t.length <= 255)) {
    throw invalidProperty("types", "must be a list of type names, or null for all");
  }
  return value;
}

/** Refuses a token whose scopes do not include mail (one with only `openid`, say): push is mail state. */
function requireMailScope(ctx: MethodContext, name: string): void {
  const scopes = ctx.principal.scopes;
  if (scopes && !scopes.includes(CAPABILITY.mail)) {
    throw new MethodError(
      "forbidden",
      `The access token's scopes do not allow ${name} (it needs the scope "${CAPABILITY.mail}")`,
    );
  }
}

/**
 * RFC 8620 §7.2: "url: String (immutable) An absolute URL where the JMAP server will POST the data for
 * the push message. This MUST begin with "https://"." The one exception is a push service the operator
 * runs next to the server without TLS: with POSTERN_PUSH_PRIVATE_TARGETS=allow, an http:// URL whose
 * host is (or resolves only to) a loopback or private address. Other URL checks are the service's.
 */
async function checkScheme(url: string, privateTargets: boolean): Promise<void> {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    return; // The service refuses it as not a URL.
  }
  if (protocol !== "http:") return;
  if (privateTargets && (await refusedTarget(url)) !== undefined) return;
  throw invalidProperty(
    "url",
    privateTargets
      ? "must be an https:// URL; http:// is only for a loopback or private host"
      : "must be an https:// URL",
  );
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  const ka = Object.keys(a as object).sort();
  const kb = Object.keys(b as object).sort();
  return ka.length === kb.length &&
    ka.every((k, i) =>
      k === kb[i] && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    );
}

/** The two methods, under the core capability. */
export function pushSubscriptionMethods(
  subscriptions: PushSubscriptionService,
  options: {
    /** POSTERN_PUSH_PRIVATE_TARGETS=allow: http:// is accepted for a loopback or private host. */
    privateTargets: boolean;
  },
): [string, MethodDefinition][] {
  return [
    ["PushSubscription/get", {
      capability: CAPABILITY.core,
      async handler(raw, ctx) {
        requireMailScope(ctx, "PushSubscription/get");
        const args = new Args(raw, ["ids", "properties"], "PushSubscription/get");
        const ids = args.stringList("ids")?.map((id) => resolveCreationIds(id, ctx) as string) ?? null;
        const properties = args.stringList("properties");
        const unknown = properties?.find((p) => !PROPERTIES.includes(p));
        if (unknown) {
          throw new MethodError("invalidArguments", `PushSubscription has no property "${unknown}"`);
        }
        const all = (await subscriptions.list(ctx.principal.accountId)).map(toWire);
        const { list, notFound } = pickByIds(all, ids === null ? null : [...new Set(ids)]);
        const shown = ["id", ...(properties ?? PROPERTIES).filter((p) => p !== "id" && !HIDDEN.has(p))];
        return { list: list.map((s) => Object.fromEntries(shown.map((p) => [p, s[p] ?? null]))), notFound };
      },
    }],
    ["PushSubscription/set", {
      capability: CAPABILITY.core,
      async handler(raw, ctx) {
        requireMailScope(ctx, "PushSubscription/set");
        const args = new Args(raw, ["create", "update", "destroy"], "PushSubscription/set");
        const accountId = ctx.principal.accountId;
        const created: Record<string, unknown> = {};
        const notCreated: Record<string, SetError> = {};
        const updated: Record<string, unknown> = {};
        const notUpdated: Record<string, SetError> = {};
        const destroyed: string[] = [];
        const notDestroyed: Record<string, SetError> = {};
        for (const [creationId, object] of Object.entries(args.map("create") ?? {})) {
          try {
            if (object === null || typeof object !== "object" || Array.isArray(object)) {
              throw invalidProperty("", "the object to create must be a JSON object");
            }
            const o = object as Record<string, unknown>;
            for (const key of Object.keys(o)) {
              if (key === "id") throw invalidProperty("id", "is set by the server");
              if (key === "verificationCode" && o[key] !== null) {
                throw invalidProperty(key, "is set by the client only after the verification push");
              }
              if (!PROPERTIES.includes(key)) throw invalidProperty(key, "is not a PushSubscription property");
            }
            if (typeof o.deviceClientId !== "string") {
              throw invalidProperty("deviceClientId", "is required: a string");
            }
            if (typeof o.url !== "string") throw invalidProperty("url", "is required: an https:// URL");
            await checkScheme(o.url, options.privateTargets);
            let keys: { p256dh: string; auth: string } | null = null;
            if (o.keys !== undefined && o.keys !== null) {
              const k = o.keys as Record<string, unknown>;
              if (typeof k !== "object" || typeof k.p256dh !== "string" || typeof k.auth !== "string") {
                throw invalidProperty("keys", "must be {p256dh, auth} (base64url strings) or null");
              }
              keys = { p256dh: k.p256dh, auth: k.auth };
            }
            const made = await subscriptions.create(ctx.principal, {
              deviceClientId: o.deviceClientId,
              url: o.url,
              keys,
              expires: o.expires === undefined ? null : readDate(o.expires, "expires"),
              types: o.types === undefined ? null : readTypes(o.types),
            });
            const id = encodeId(made.id);
            ctx.createdIds.set(creationId, id);
            const answer: Record<string, unknown> = { id, keys: null };
            const asked = o.expires === undefined ? null : readDate(o.expires, "expires");
            // The server chose or shortened the expiry: the client learns it (RFC 8620 §7.2).
            if (asked !== made.expires) answer.expires = utcDate(made.expires);
            created[creationId] = answer;
          } catch (error) {
            notCreated[creationId] = toSetError(error);
          }
        }
        for (const [rawId, patch] of Object.entries(args.map("update") ?? {})) {
          const id = resolveCreationIds(rawId, ctx) as string;
          try {
            if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
              throw invalidProperty("", "the patch must be a JSON object");
            }
            const changes: PushSubscriptionChanges = {};
            // RFC 8620 §5.3: server-set properties "MAY be included in the patch if their value is
            // identical to the current server value"; so may the immutable ones (§7.2) given unchanged.
            const current = (await subscriptions.list(accountId)).find((s) => encodeId(s.id) === id);
            const fixed: Record<string, unknown> = current
              ? { id, deviceClientId: current.deviceClientId, url: current.url, keys: current.keys }
              : {};
            for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
              if (Object.hasOwn(fixed, key) && sameJson(value, fixed[key])) continue;
              if (key === "verificationCode") {
                if (value !== null && typeof value !== "string") {
                  throw invalidProperty(key, "must be a string");
                }
                changes.verificationCode = value as string | null;
              } else if (key === "expires") changes.expires = readDate(value, key);
              else if (key === "types") changes.types = readTypes(value);
              else if (PROPERTIES.includes(key)) throw invalidProperty(key, "cannot be changed");
              else throw invalidProperty(key, "is not a PushSubscription property");
            }
            const next = await subscriptions.update(accountId, decodeId(id) ?? -1, changes);
            const asked = changes.expires;
            updated[id] = asked !== undefined && asked !== next.expires
              ? { expires: utcDate(next.expires) }
              : null;
          } catch (error) {
            notUpdated[id] = toSetError(error);
          }
        }
        for (const rawId of args.stringList("destroy") ?? []) {
          const id = resolveCreationIds(rawId, ctx) as string;
          try {
            await subscriptions.destroy(accountId, decodeId(id) ?? -1);
            destroyed.push(id);
          } catch (error) {
            notDestroyed[id] = toSetError(error);
          }
        }
        const orNull = (o: Record<string, unknown>) => Object.keys(o).length ? o : null;
        return {
          created: orNull(created),
          notCreated: orNull(notCreated),
          updated: orNull(updated),
          notUpdated: orNull(notUpdated),
          destroyed: destroyed.length ? destroyed : null,
          notDestroyed: orNull(notDestroyed),
        };
      },
    }],
  ];
}
