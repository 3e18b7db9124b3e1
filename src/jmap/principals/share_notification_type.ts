/**
 * The ShareNotification data type (RFC 9670): the server records one when a user's rights on a
 * shared mailbox change; the user reads and dismisses (destroys) them. They live in the user's own
 * account, beside their Principal, with per-account states.
 */
import type { ShareNotificationRecord, ShareNotificationService } from "../../mail/mod.ts";
import { SHARE_NOTIFICATION_CHANGE } from "../../mail/mod.ts";
import { NotFoundError } from "../../model/errors.ts";
import { decodeId, encodeId } from "../../model/ids.ts";
import { rightsObject } from "../../model/mail.ts";
import { MethodError } from "../errors.ts";
import { type DataType, type JmapObject, pickByIds } from "../standard/data_type.ts";
import { matches, windowIds } from "../standard/query_window.ts";
import { checkOwnAccount } from "./own_account.ts";
import { PRINCIPALS_CAPABILITY, type ShareNotificationObject } from "./types.ts";

/** What the ShareNotification type uses. */
export interface ShareNotificationTypeDeps {
  notifications: ShareNotificationService;
  maxQueryLimit: number;
}

/** RFC 8620 §1.4 UTCDate: "Z", and no fraction of a second when it is zero. */
function utcDate(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

const UTC_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** A filter's UTCDate in milliseconds, or invalidArguments naming the filter. */
function dateValue(name: string, value: unknown): number {
  const ms = typeof value === "string" && UTC_DATE.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    throw new MethodError(
      "invalidArguments",
      `Filter "${name}" must be a UTCDate such as 2024-01-31T12:00:00Z`,
    );
  }
  return ms;
}

function toWire(n: ShareNotificationRecord): ShareNotificationObject {
  return {
    id: encodeId(n.id),
    created: utcDate(n.createdAt),
    changedBy: {
      name: n.changedBy.name,
      email: n.changedBy.email,
      principalId: n.changedBy.id === null ? null : encodeId(n.changedBy.id),
    },
    objectType: n.objectType,
    objectAccountId: encodeId(n.objectAccountId),
    objectId: encodeId(n.objectId),
    oldRights: rightsObject(n.oldRights),
    newRights: rightsObject(n.newRights),
    name: n.name,
  };
}

/** RFC 9670 (ShareNotification/query): the filter conditions. */
const CONDITIONS: DataType["conditions"] = {
  after: (o, v) => Date.parse(String(o.created)) >= dateValue("after", v),
  before: (o, v) => Date.parse(String(o.created)) < dateValue("before", v),
  objectType: (o, v) => o.objectType === v,
  objectAccountId: (o, v) => o.objectAccountId === v,
};

/** The ShareNotification data type: get, changes, query, queryChanges, and /set that only destroys. */
export function shareNotificationType(deps: ShareNotificationTypeDeps): DataType {
  const list = async (accountId: number) => (await deps.notifications.list(accountId)).map(toWire);
  const type: DataType = {
    name: "ShareNotification",
    capability: PRINCIPALS_CAPABILITY,
    changeType: SHARE_NOTIFICATION_CHANGE,
    perAccount: true,
    properties: [
      "id",
      "created",
      "changedBy",
      "objectType",
      "objectAccountId",
      "objectId",
      "oldRights",
      "newRights",
      "name",
    ],
    idProperties: [],
    defaults: {},
    wireId: encodeId,
    checkAccount: (ctx, accountId) => checkOwnAccount(ctx, accountId, "share notifications"),
    conditions: CONDITIONS,
    sortable: ["created"],
    async get(ctx, ids) {
      const all = (await list(ctx.principal.accountId)) as unknown as JmapObject[];
      return pickByIds(all, ids);
    },
    // No create and no update: RFC 9670 has the server alone make them, so /set refuses both
    // with "forbidden".
    async destroy(ctx, id) {
      const notificationId = decodeId(id);
      if (notificationId === undefined) throw new NotFoundError("ShareNotification", id);
      await deps.notifications.destroy(ctx.principal.accountId, notificationId);
    },
    // Sorted here rather than by the generic sort: `created` compares as a time and ties go by id
    // as a number (wire dates and ids do not sort as text).
    async query(ctx, window) {
      const records = await deps.notifications.list(ctx.principal.accountId);
      const kept = records.filter((n) => matches(type, toWire(n) as unknown as JmapObject, window.filter));
      const descending = window.sort.length > 0 && window.sort[0].isAscending === false;
      kept.sort((a, b) => (a.createdAt - b.createdAt || a.id - b.id) * (descending ? -1 : 1));
      return windowIds(kept.map((n) => encodeId(n.id)), window, deps.maxQueryLimit);
    },
  };
  return type;
}
