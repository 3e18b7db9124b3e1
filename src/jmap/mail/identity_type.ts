/** The Identity data type (RFC 8621 §6): Identity/get, /set and /changes. */
import type { IdentityInput, IdentityService } from "../../mail/mod.ts";
import { invalidProperty } from "../../model/errors.ts";
import { decodeId, encodeId } from "../../model/ids.ts";
import type { MethodContext } from "../engine.ts";
import { type DataType, type JmapObject, pickByIds } from "../standard/data_type.ts";
import { CAPABILITY } from "../types.ts";

/** What the Identity type uses. */
export interface IdentityTypeDeps {
  identities: IdentityService;
  checkAccount: DataType["checkAccount"];
}

const PROPERTIES = ["id", "name", "email", "replyTo", "bcc", "textSignature", "htmlSignature", "mayDelete"];

/** The Identity data type. */
export function identityType(deps: IdentityTypeDeps): DataType {
  const accountOf = (ctx: MethodContext) => decodeId(ctx.accountId!)!;
  const list = async (ctx: MethodContext) =>
    (await deps.identities.list(ctx.principal.accountId, accountOf(ctx))).map((i): JmapObject => ({
      id: encodeId(i.id),
      name: i.name,
      email: i.email,
      replyTo: i.replyTo,
      bcc: i.bcc,
      textSignature: i.textSignature,
      htmlSignature: i.htmlSignature,
      mayDelete: i.mayDelete,
    }));
  return {
    name: "Identity",
    capability: CAPABILITY.submission,
    changeType: "Identity",
    perAccount: true,
    wireId: encodeId,
    properties: PROPERTIES,
    idProperties: [],
    defaults: { name: "", textSignature: "", htmlSignature: "" },
    checkAccount: deps.checkAccount,
    async get(ctx, ids) {
      const all = await list(ctx);
      return pickByIds(all, ids);
    },
    async create(ctx, object) {
      const created = await deps.identities.create(
        ctx.principal.accountId,
        accountOf(ctx),
        readInput(object),
      );
      return { id: encodeId(created.id), mayDelete: true, name: created.name };
    },
    async update(ctx, id, changes) {
      await deps.identities.update(
        ctx.principal.accountId,
        accountOf(ctx),
        decodeId(id) ?? -1,
        readInput(changes),
      );
      return null;
    },
    async destroy(ctx, id) {
      await deps.identities.destroy(ctx.principal.accountId, accountOf(ctx), decodeId(id) ?? -1);
    },
    conditions: {},
    sortable: [],
  };
}

/** The writable properties of a create or update, checked. */
function readInput(object: JmapObject): IdentityInput {
  const input: IdentityInput = {};
  for (const [key, value] of Object.entries(object)) {
    switch (key) {
      case "name":
      case "textSignature":
      case "htmlSignature":
        if (typeof value !== "string" || value.length > 16_384) {
          throw invalidProperty(key, "must be a string of at most 16 KB");
        }
        input[key] = value;
        break;
      case "email":
        if (typeof value !== "string") throw invalidProperty(key, "must be an address");
        input.email = value;
        break;
      case "replyTo":
      case "bcc":
        if (
          value !== null &&
          !(Array.isArray(value) &&
            value.every((a) =>
              typeof a === "object" && a !== null && typeof a.email === "string" &&
              (a.name === undefined || a.name === null || typeof a.name === "string")
            ))
        ) throw invalidProperty(key, "must be a list of {name, email} or null");
        input[key] = value === null ? null : value.map((a: { name?: string | null; email: string }) => ({
          name: a.name ?? null,
          email: a.email,
        }));
        break;
      case "mayDelete":
        // Written back unchanged it never reaches here (an unchanged property is no change).
        throw invalidProperty(key, "is set by the server");
      default:
        throw invalidProperty(key, "is not an Identity property");
    }
  }
  return input;
}
