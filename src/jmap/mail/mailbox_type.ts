/** The Mailbox data type (RFC 8621 §2) with `shareWith` and `myRights` (RFC 9670 sharing). */
import type { MailboxInput, MailboxService, MailboxView } from "../../mail/mod.ts";
import { InvalidInputError, invalidProperty, NotFoundError } from "../../model/errors.ts";
import { decodeId, encodeId } from "../../model/ids.ts";
import { ALL_RIGHTS, MAILBOX_RIGHTS, rightsObject } from "../../model/mail.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import type { DataType, JmapObject } from "../standard/data_type.ts";
import { matches, sortObjects, windowIds } from "../standard/query_window.ts";
import { CAPABILITY } from "../types.ts";

/** What the Mailbox type uses. */
export interface MailboxTypeDeps {
  mailboxes: MailboxService;
  maxQueryLimit: number;
}

/** The mailbox-owning account of a call (checked by checkAccount before any other step). */
function accountOf(ctx: MethodContext): number {
  return decodeId(ctx.accountId!)!;
}

function toWire(m: MailboxView): JmapObject {
  return {
    id: encodeId(m.id),
    name: m.name,
    parentId: m.parentId === null ? null : encodeId(m.parentId),
    role: m.role,
    sortOrder: m.sortOrder,
    totalEmails: m.counts.totalEmails,
    unreadEmails: m.counts.unreadEmails,
    totalThreads: m.counts.totalThreads,
    unreadThreads: m.counts.unreadThreads,
    myRights: rightsObject(m.rights),
    isSubscribed: m.isSubscribed,
    shareWith: m.shareWith === null
      ? null
      : Object.fromEntries([...m.shareWith].map(([id, rights]) => [encodeId(id), rightsObject(rights)])),
  };
}

/** Properties only the server sets (RFC 8621 §2: "server-set"). */
const SERVER_SET = ["id", "totalEmails", "unreadEmails", "totalThreads", "unreadThreads", "myRights"];

/**
 * Reads the writable properties of a create or update. A server-set property here is refused, every one
 * named: RFC 8620 §5.3 lets an update include "server-set properties ... if their value is identical to
 * the current server value ... Otherwise, the update MUST be rejected with an invalidProperties
 * SetError", and /set drops the unchanged ones before they reach this.
 */
function toInput(object: JmapObject): MailboxInput {
  const input: MailboxInput = {};
  const serverSet = Object.keys(object).filter((key) => SERVER_SET.includes(key));
  if (serverSet.length) {
    throw new InvalidInputError(
      `${serverSet.map((p) => `"${p}"`).join(", ")} ${serverSet.length > 1 ? "are" : "is"} set by the server`,
      serverSet.map((property) => ({ property, message: "is set by the server" })),
    );
  }
  for (const [key, value] of Object.entries(object)) {
    switch (key) {
      case "name":
        if (typeof value !== "string") throw invalidProperty(key, "must be a string");
        input.name = value;
        break;
      case "parentId":
        if (value === null) input.parentId = null;
        else if (typeof value !== "string" || decodeId(value) === undefined) {
          throw invalidProperty(key, "must be a mailbox id or null");
        } else input.parentId = decodeId(value)!;
        break;
      case "role":
        if (value !== null && typeof value !== "string") {
          throw invalidProperty(key, "must be a string or null");
        }
        input.role = value === null ? null : value.toLowerCase();
        break;
      case "sortOrder":
        if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 2 ** 32 - 1) {
          throw invalidProperty(key, "must be an unsigned integer");
        }
        input.sortOrder = value as number;
        break;
      case "isSubscribed":
        if (typeof value !== "boolean") throw invalidProperty(key, "must be true or false");
        input.isSubscribed = value;
        break;
      case "shareWith":
        input.shareWith = value === null ? new Map() : readShareWith(value);
        break;
      default:
        throw invalidProperty(key, `"${key}" is not a Mailbox property`);
    }
  }
  return input;
}

function readShareWith(value: unknown): Map<number, number> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidProperty("shareWith", "must map account ids to rights, or be null");
  }
  const out = new Map<number, number>();
  for (const [accountId, rights] of Object.entries(value)) {
    const id = decodeId(accountId);
    if (id === undefined) throw invalidProperty("shareWith", `"${accountId}" is not an account id`);
    if (typeof rights !== "object" || rights === null || Array.isArray(rights)) {
      throw invalidProperty("shareWith", `the rights of ${accountId} must be an object of booleans`);
    }
    let bits = 0;
    for (const [right, on] of Object.entries(rights)) {
      const index = (MAILBOX_RIGHTS as readonly string[]).indexOf(right);
      if (index < 0 || typeof on !== "boolean") {
        throw invalidProperty("shareWith", `unknown right or value "${right}"`);
      }
      if (on) bits |= 1 << index;
    }
    out.set(id, bits & ALL_RIGHTS);
  }
  return out;
}

const text = (v: unknown) => typeof v === "string";

/** The Mailbox data type. */
export function mailboxType(deps: MailboxTypeDeps): DataType {
  const { mailboxes } = deps;
  const list = async (ctx: MethodContext) =>
    (await mailboxes.list(ctx.principal.accountId, accountOf(ctx))).map(toWire);
  const type: DataType = {
    name: "Mailbox",
    capability: CAPABILITY.mail,
    changeType: "Mailbox",
    perAccount: true,
    properties: [
      "id",
      "name",
      "parentId",
      "role",
      "sortOrder",
      "totalEmails",
      "unreadEmails",
      "totalThreads",
      "unreadThreads",
      "myRights",
      "isSubscribed",
      "shareWith",
    ],
    idProperties: ["parentId"],
    countProperties: ["totalEmails", "unreadEmails", "totalThreads", "unreadThreads"],
    defaults: { sortOrder: 0, isSubscribed: false },
    wireId: encodeId,
    async checkAccount(ctx, accountId) {
      if (typeof accountId !== "string") {
        throw new MethodError("invalidArguments", '"accountId" must be a string');
      }
      const id = decodeId(accountId);
      if (id === undefined || !(await mailboxes.canAccess(ctx.principal.accountId, id))) {
        throw new MethodError("accountNotFound", `No mail account "${accountId}" is available to you`);
      }
      return accountId;
    },
    conditions: {
      parentId: (o, v) => o.parentId === v,
      name: (o, v) => text(v) && String(o.name).toLowerCase().includes(String(v).toLowerCase()),
      role: (o, v) => o.role === v,
      hasAnyRole: (o, v) => typeof v === "boolean" && (o.role !== null) === v,
      isSubscribed: (o, v) => o.isSubscribed === v,
    },
    sortable: ["sortOrder", "name"],
    queryArguments: ["sortAsTree", "filterAsTree"],
    setArguments: { onDestroyRemoveEmails: "boolean" },
    async get(ctx, ids) {
      const all = await list(ctx);
      if (ids === null) return { list: all, notFound: [] };
      const byId = new Map(all.map((m) => [m.id as string, m]));
      const found = ids.map((id) => byId.get(id)).filter((m): m is JmapObject => m !== undefined);
      return { list: found, notFound: ids.filter((id) => !byId.has(id)) };
    },
    async create(ctx, object) {
      const id = await mailboxes.create(ctx.principal.accountId, accountOf(ctx), toInput(object));
      // The creator sees what they created (a child inherits its parent's grants); should a concurrent
      // change hide it, the id alone still tells the client it exists.
      return (await list(ctx)).find((m) => m.id === encodeId(id)) ?? { id: encodeId(id) };
    },
    async update(ctx, id, changes) {
      const mailboxId = decodeId(id);
      if (mailboxId === undefined) throw new NotFoundError("Mailbox", id);
      await mailboxes.update(ctx.principal.accountId, accountOf(ctx), mailboxId, toInput(changes));
      return null;
    },
    async destroy(ctx, id) {
      const mailboxId = decodeId(id);
      if (mailboxId === undefined) throw new NotFoundError("Mailbox", id);
      await mailboxes.destroy(ctx.principal.accountId, accountOf(ctx), mailboxId, {
        removeEmails: ctx.arguments?.onDestroyRemoveEmails === true,
      });
    },
    async query(ctx, window) {
      const all = await list(ctx);
      const asTree = window.arguments?.sortAsTree === true;
      const filterAsTree = window.arguments?.filterAsTree === true;
      for (const name of ["sortAsTree", "filterAsTree"]) {
        const v = window.arguments?.[name];
        if (v !== undefined && typeof v !== "boolean") {
          throw new MethodError("invalidArguments", `"${name}" must be true or false`);
        }
      }
      const byId = new Map(all.map((m) => [m.id as string, m]));
      let kept = all.filter((m) => matches(type, m, window.filter));
      if (filterAsTree) {
        // RFC 8621 §2.3: a mailbox only matches if its parents match too.
        const ok = new Set(kept.map((m) => m.id as string));
        const ancestorsMatch = (m: JmapObject): boolean =>
          m.parentId === null ||
          (ok.has(m.parentId as string) && ancestorsMatch(byId.get(m.parentId as string)!));
        kept = kept.filter(ancestorsMatch);
      }
      let sorted = sortObjects(kept, window.sort);
      if (asTree) sorted = treeOrder(sorted);
      return windowIds(sorted.map((m) => String(m.id)), window, deps.maxQueryLimit);
    },
  };
  return type;
}

/** Parents before their children, siblings in the given order (RFC 8621 §2.3 sortAsTree). */
function treeOrder(sorted: JmapObject[]): JmapObject[] {
  const present = new Set(sorted.map((m) => m.id));
  const children = new Map<unknown, JmapObject[]>();
  for (const m of sorted) {
    const parent = present.has(m.parentId) ? m.parentId : null;
    children.set(parent, [...(children.get(parent) ?? []), m]);
  }
  const out: JmapObject[] = [];
  const visit = (parent: unknown) => {
    for (const m of children.get(parent) ?? []) {
      out.push(m);
      visit(m.id);
    }
  };
  visit(null);
  return out;
}
