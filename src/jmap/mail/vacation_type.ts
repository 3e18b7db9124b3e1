/** The VacationResponse data type (RFC 8621 §8): a singleton per account, /get and /set. */
import type { VacationInput, VacationRecord, VacationService } from "../../mail/mod.ts";
import { invalidProperty } from "../../model/errors.ts";
import { decodeId } from "../../model/ids.ts";
import type { MethodContext } from "../engine.ts";
import { type DataType, type JmapObject, pickByIds } from "../standard/data_type.ts";
import { CAPABILITY } from "../types.ts";
import { readUtcDate, utcDate } from "../dates.ts";

/** What the VacationResponse type uses. */
export interface VacationTypeDeps {
  vacation: VacationService;
  checkAccount: DataType["checkAccount"];
}

const PROPERTIES = ["id", "isEnabled", "fromDate", "toDate", "subject", "textBody", "htmlBody"];

function toWire(v: VacationRecord): JmapObject {
  return {
    id: "singleton",
    isEnabled: v.isEnabled,
    fromDate: v.fromDate === null ? null : utcDate(v.fromDate),
    toDate: v.toDate === null ? null : utcDate(v.toDate),
    subject: v.subject,
    textBody: v.textBody,
    htmlBody: v.htmlBody,
  };
}

/** The VacationResponse data type. */
export function vacationType(deps: VacationTypeDeps): DataType {
  const accountOf = (ctx: MethodContext) => decodeId(ctx.accountId!)!;
  return {
    name: "VacationResponse",
    capability: CAPABILITY.vacation,
    changeType: "VacationResponse",
    perAccount: true,
    singleton: true,
    wireId: () => "singleton",
    properties: PROPERTIES,
    idProperties: [],
    defaults: { isEnabled: false },
    checkAccount: deps.checkAccount,
    async get(ctx, ids) {
      return pickByIds([toWire(await deps.vacation.get(ctx.principal.accountId, accountOf(ctx)))], ids);
    },
    async update(ctx, _id, changes) {
      await deps.vacation.update(ctx.principal.accountId, accountOf(ctx), readInput(changes));
      return null;
    },
    conditions: {},
    sortable: [],
  };
}

/** The changed properties, checked. */
function readInput(changes: JmapObject): VacationInput {
  const input: VacationInput = {};
  for (const [key, value] of Object.entries(changes)) {
    switch (key) {
      case "isEnabled":
        if (typeof value !== "boolean") throw invalidProperty(key, "must be true or false");
        input.isEnabled = value;
        break;
      case "fromDate":
      case "toDate": {
        const time = value === null ? null : readUtcDate(value);
        if (time === undefined) {
          throw invalidProperty(key, "must be a UTCDate such as 2026-12-24T00:00:00Z, or null");
        }
        input[key] = time;
        break;
      }
      case "subject":
      case "textBody":
      case "htmlBody":
        if (value !== null && (typeof value !== "string" || value.length > 65_536)) {
          throw invalidProperty(key, "must be a string of at most 64 KB, or null");
        }
        input[key] = value;
        break;
      default:
        throw invalidProperty(key, "is not a VacationResponse property");
    }
  }
  return input;
}
