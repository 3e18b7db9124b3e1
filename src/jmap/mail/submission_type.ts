/**
 * The EmailSubmission data type (RFC 8621 §7): /get, /set (create sends; the one update cancels a
 * pending one; destroy forgets), /changes, /query and /queryChanges.
 */
import type { SubmissionInput, SubmissionRecord, SubmissionService } from "../../mail/mod.ts";
import { InvalidInputError, invalidProperty } from "../../model/errors.ts";
import { decodeId, encodeId } from "../../model/ids.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import { type DataType, type JmapObject, pickByIds } from "../standard/data_type.ts";
import { matches, sortObjects, windowIds } from "../standard/query_window.ts";
import { CAPABILITY } from "../types.ts";
import { readDate, utcDate } from "../dates.ts";

/** What the EmailSubmission type uses. */
export interface SubmissionTypeDeps {
  submissions: SubmissionService;
  maxQueryLimit: number;
  checkAccount: DataType["checkAccount"];
}

const PROPERTIES = [
  "id",
  "identityId",
  "emailId",
  "threadId",
  "envelope",
  "sendAt",
  "undoStatus",
  "deliveryStatus",
  "dsnBlobIds",
  "mdnBlobIds",
];

function toWire(s: SubmissionRecord): JmapObject {
  return {
    id: encodeId(s.id),
    identityId: encodeId(s.identityId),
    emailId: encodeId(s.emailId),
    threadId: encodeId(s.threadId),
    envelope: s.envelope,
    sendAt: utcDate(s.sendAt),
    undoStatus: s.undoStatus,
    deliveryStatus: s.deliveryStatus,
    dsnBlobIds: [],
    mdnBlobIds: [],
  };
}

const inList = (property: string) => (o: JmapObject, v: unknown) =>
  Array.isArray(v) && v.includes(o[property]);

/** The EmailSubmission data type. */
export function submissionType(deps: SubmissionTypeDeps): DataType {
  const accountOf = (ctx: MethodContext) => decodeId(ctx.accountId!)!;
  const list = async (ctx: MethodContext) =>
    (await deps.submissions.list(ctx.principal.accountId, accountOf(ctx))).map(toWire);
  const type: DataType = {
    name: "EmailSubmission",
    capability: CAPABILITY.submission,
    changeType: "EmailSubmission",
    perAccount: true,
    wireId: encodeId,
    properties: PROPERTIES,
    idProperties: ["identityId", "emailId"],
    defaults: {},
    checkAccount: deps.checkAccount,
    async get(ctx, ids) {
      const all = await list(ctx);
      return pickByIds(all, ids);
    },
    async create(ctx, object) {
      const created = await deps.submissions.create(
        ctx.principal.accountId,
        accountOf(ctx),
        readInput(object),
      );
      const wire = toWire(created);
      return { id: wire.id, threadId: wire.threadId, sendAt: wire.sendAt, undoStatus: wire.undoStatus };
    },
    async update(ctx, id, changes) {
      const keys = Object.keys(changes);
      if (keys.length !== 1 || keys[0] !== "undoStatus" || changes.undoStatus !== "canceled") {
        throw new InvalidInputError('Only undoStatus can change, and only to "canceled"', [
          ...keys.map((property) => ({ property, message: "cannot be changed this way" })),
        ]);
      }
      await deps.submissions.cancel(ctx.principal.accountId, accountOf(ctx), decodeId(id) ?? -1);
      return null;
    },
    async destroy(ctx, id) {
      await deps.submissions.destroy(ctx.principal.accountId, accountOf(ctx), decodeId(id) ?? -1);
    },
    conditions: {
      identityIds: inList("identityId"),
      emailIds: inList("emailId"),
      threadIds: inList("threadId"),
      undoStatus: (o, v) => o.undoStatus === v,
      before: (o, v) => typeof v === "string" && String(o.sendAt) < v,
      after: (o, v) => typeof v === "string" && String(o.sendAt) >= v,
    },
    sortable: ["emailId", "threadId", "sentAt"],
    async query(ctx, window) {
      const all = await list(ctx);
      const kept = all.filter((s) => matches(type, s, window.filter));
      // RFC 8621 §7.3 sorts by "sentAt": the submission's sendAt.
      const sort = window.sort.map((c) => c.property === "sentAt" ? { ...c, property: "sendAt" } : c);
      return windowIds(sortObjects(kept, sort).map((s) => String(s.id)), window, deps.maxQueryLimit);
    },
  };
  return type;
}

/** A create's properties, checked. */
function readInput(object: JmapObject): SubmissionInput {
  for (const key of Object.keys(object)) {
    if (!["identityId", "emailId", "envelope"].includes(key)) {
      throw invalidProperty(
        key,
        PROPERTIES.includes(key) ? "is set by the server" : "is not an EmailSubmission property",
      );
    }
  }
  const id = (key: string) => {
    const value = object[key];
    const decoded = typeof value === "string" ? decodeId(value) : undefined;
    if (decoded === undefined) throw invalidProperty(key, "must be an id");
    return decoded;
  };
  const input: SubmissionInput = { identityId: id("identityId"), emailId: id("emailId") };
  if (object.envelope !== undefined && object.envelope !== null) {
    input.envelope = readEnvelope(object.envelope);
    const release = holdUntil(input.envelope.mailFrom.parameters);
    if (release !== undefined) input.sendAt = release;
  }
  return input;
}

/**
 * The release time asked for by FUTURERELEASE (RFC 4865) on MAIL FROM: `HOLDFOR` seconds from now or
 * `HOLDUNTIL` an RFC 3339 date-time. It becomes the submission's sendAt (RFC 8621 §7).
 */
function holdUntil(
  parameters: Record<string, string | null> | null,
): number | undefined {
  if (!parameters) return undefined;
  const named = (name: string) => {
    const key = Object.keys(parameters).find((k) => k.toUpperCase() === name);
    return key === undefined ? undefined : parameters[key];
  };
  const holdFor = named("HOLDFOR");
  const until = named("HOLDUNTIL");
  if (holdFor !== undefined && until !== undefined) {
    throw invalidProperty("envelope", "HOLDFOR and HOLDUNTIL cannot both be given");
  }
  if (holdFor !== undefined) {
    if (typeof holdFor !== "string" || !/^\d{1,9}$/.test(holdFor)) {
      throw invalidProperty("envelope", "HOLDFOR must be a number of seconds");
    }
    return Date.now() + Number(holdFor) * 1000;
  }
  if (until !== undefined) {
    const time = readDate(until);
    if (time === undefined) {
      throw invalidProperty("envelope", "HOLDUNTIL must be a date-time such as 2026-12-06T10:00:00Z");
    }
    return time;
  }
  return undefined;
}

function readEnvelope(value: unknown) {
  const address = (a: unknown) => {
    if (typeof a !== "object" || a === null || typeof (a as { email?: unknown }).email !== "string") {
      throw invalidProperty("envelope", "addresses must be {email, parameters}");
    }
    const parameters = (a as { parameters?: unknown }).parameters ?? null;
    if (parameters !== null && (typeof parameters !== "object" || Array.isArray(parameters))) {
      throw invalidProperty("envelope", "parameters must be an object or null");
    }
    return {
      email: (a as { email: string }).email,
      parameters: parameters as Record<string, string | null> | null,
    };
  };
  if (typeof value !== "object" || value === null) {
    throw invalidProperty("envelope", "must be {mailFrom, rcptTo}");
  }
  const envelope = value as { mailFrom?: unknown; rcptTo?: unknown };
  if (!Array.isArray(envelope.rcptTo)) {
    throw invalidProperty("envelope", "rcptTo must be a list of addresses");
  }
  return { mailFrom: address(envelope.mailFrom), rcptTo: envelope.rcptTo.map(address) };
}

/** Checks `onSuccessUpdateEmail`/`onSuccessDestroyEmail` of a /set before anything runs. */
export function readOnSuccess(raw: Record<string, unknown>): {
  update: Record<string, JmapObject> | null;
  destroy: string[] | null;
} {
  const update = raw.onSuccessUpdateEmail ?? null;
  const destroy = raw.onSuccessDestroyEmail ?? null;
  if (update !== null && (typeof update !== "object" || Array.isArray(update))) {
    throw new MethodError("invalidArguments", '"onSuccessUpdateEmail" must be an object of patches');
  }
  if (destroy !== null && (!Array.isArray(destroy) || !destroy.every((d) => typeof d === "string"))) {
    throw new MethodError("invalidArguments", '"onSuccessDestroyEmail" must be a list of ids');
  }
  return { update: update as Record<string, JmapObject> | null, destroy: destroy as string[] | null };
}
