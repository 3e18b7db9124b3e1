/**
 * Quota (RFC 9425): the account's limits as JMAP objects — storage in octets (`maxDiskQuota`) and the
 * number of mailboxes (`maxMailboxes`) — with what is used. Quotas are derived, not stored, so their
 * state encodes the values it was computed from and /changes compares against it.
 */
import type { AccountService } from "../../directory/mod.ts";
import type { BlobService, MailboxService } from "../../mail/mod.ts";
import { decodeId } from "../../model/ids.ts";
import type { LoggedChange } from "../../model/types.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import type { DataType, JmapObject } from "../standard/data_type.ts";
import type { ChangeFeed } from "../standard/state.ts";
import { CAPABILITY } from "../types.ts";

/** RFC 9425 §2 capability URI. */
export const QUOTA_CAPABILITY = CAPABILITY.quota;

/** What the Quota type uses. */
export interface QuotaTypeDeps {
  accounts: AccountService;
  mailboxes: MailboxService;
  /** Bytes stored for the account: what maxDiskQuota counts. */
  blobs: Pick<BlobService, "usedBytes">;
}

/** The quota objects by numeric id (the change feed's object ids). */
const IDS = ["", "storage", "mailboxes"] as const;

/** The quotas of an account, as wire objects. */
async function quotas(deps: QuotaTypeDeps, accountId: number): Promise<JmapObject[]> {
  const account = await deps.accounts.get(accountId);
  if (!account) return [];
  const out: JmapObject[] = [];
  const common = { scope: "account", warnLimit: null, softLimit: null };
  if (account.quotas.maxDiskQuota !== undefined) {
    out.push({
      id: "storage",
      resourceType: "octets",
      used: await deps.blobs.usedBytes(accountId),
      hardLimit: account.quotas.maxDiskQuota,
      name: "Mail storage",
      types: ["Mail"],
      description: "Size of all messages and uploads of the account",
      ...common,
    });
  }
  if (account.quotas.maxMailboxes !== undefined) {
    out.push({
      id: "mailboxes",
      resourceType: "count",
      used: (await deps.mailboxes.list(accountId, accountId)).length,
      hardLimit: account.quotas.maxMailboxes,
      name: "Mailboxes",
      types: ["Mailbox"],
      description: "Number of mailboxes of the account",
      ...common,
    });
  }
  return out;
}

/** A state that says every quota's value: `storage:0:5000~mailboxes:7:100`. */
function stateOf(list: JmapObject[]): string {
  return list.length ? list.map((q) => `${q.id}:${q.used}:${q.hardLimit}`).join("~") : "none";
}

/** The change feed of quotas: the difference between the values a state names and today's. */
export function quotaFeed(deps: QuotaTypeDeps): ChangeFeed {
  return {
    async state(_type, accountId) {
      return stateOf(await quotas(deps, accountId!));
    },
    async since(_type, accountId, state) {
      if (!/^(none|[a-z]+:\d+:\d+(~[a-z]+:\d+:\d+)*)$/.test(state)) return undefined;
      const before = new Map(
        state === "none" ? [] : state.split("~").map((p) => {
          const [id, used, limit] = p.split(":");
          return [id, `${used}:${limit}`] as const;
        }),
      );
      const now = new Map(
        (await quotas(deps, accountId!)).map((q) => [String(q.id), `${q.used}:${q.hardLimit}`]),
      );
      const rows: LoggedChange[] = [];
      const row = (id: string, kind: LoggedChange["kind"]) =>
        rows.push({
          id: rows.length + 1,
          type: "Quota",
          objectId: IDS.indexOf(id as typeof IDS[number]),
          kind,
          accountId,
        });
      for (const [id, value] of now) {
        if (!before.has(id)) row(id, "created");
        else if (before.get(id) !== value) row(id, "updated");
      }
      for (const id of before.keys()) if (!now.has(id)) row(id, "destroyed");
      return rows;
    },
  };
}

/** The Quota data type (get, changes, query, queryChanges; there is no Quota/set). */
export function quotaType(deps: QuotaTypeDeps): DataType {
  const accountOf = (ctx: MethodContext) => decodeId(ctx.accountId!)!;
  const equals = (property: string) => (o: JmapObject, v: unknown) => o[property] === v;
  return {
    name: "Quota",
    capability: QUOTA_CAPABILITY,
    changeType: "Quota",
    perAccount: true,
    properties: [
      "id",
      "resourceType",
      "used",
      "hardLimit",
      "scope",
      "name",
      "types",
      "warnLimit",
      "softLimit",
      "description",
    ],
    idProperties: [],
    defaults: {},
    wireId: (id) => IDS[id] ?? String(id),
    async checkAccount(ctx, accountId) {
      if (typeof accountId !== "string") {
        throw new MethodError("invalidArguments", '"accountId" must be a string');
      }
      const id = decodeId(accountId);
      if (id === undefined || !(await deps.mailboxes.canAccess(ctx.principal.accountId, id))) {
        throw new MethodError("accountNotFound", `No account "${accountId}" with quotas is available to you`);
      }
      return accountId;
    },
    conditions: {
      name: (o, v) => typeof v === "string" && String(o.name).toLowerCase().includes(v.toLowerCase()),
      scope: equals("scope"),
      resourceType: equals("resourceType"),
      type: (o, v) => (o.types as string[]).includes(String(v)),
    },
    sortable: ["name", "used"],
    async get(ctx, ids) {
      const list = await quotas(deps, accountOf(ctx));
      if (ids === null) return { list, notFound: [] };
      return {
        list: list.filter((q) => ids.includes(String(q.id))),
        notFound: ids.filter((id) => !list.some((q) => q.id === id)),
      };
    },
  };
}
