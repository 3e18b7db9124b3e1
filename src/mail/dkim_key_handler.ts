/**
 * The `DkimKey` management type: the DKIM keys of every domain, read by administrators only (a key
 * pair is server configuration, not a user's business), destroyed when retired. Keys are made by
 * the server, never created or changed through this type.
 */
import type { Caller, ObjectHandler, WireObject } from "../directory/mod.ts";
import { isAdmin } from "../directory/mod.ts";
import { txt } from "../model/dns_records.ts";
import { encodeId } from "../model/ids.ts";
import type { DkimKeyRecord } from "../store/mod.ts";
import { ForbiddenError, NotFoundError, type Store } from "./deps.ts";
import { type DkimKeyService, dkimRecordText } from "./dkim_keys.ts";

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The handler of `DkimKey` objects. */
export function dkimKeyHandler(store: Store, keys: DkimKeyService): ObjectHandler {
  const requireAdmin = (caller: Caller) => {
    if (!isAdmin(caller)) throw new ForbiddenError("DKIM keys are managed by administrators");
  };
  const toWire = async (key: DkimKeyRecord, names: Map<number, string>): Promise<WireObject> => {
    let name = names.get(key.domainId);
    if (name === undefined) {
      names.set(key.domainId, name = (await store.domains.get(key.domainId))?.name ?? "");
    }
    return {
      id: encodeId(key.id),
      domainId: encodeId(key.domainId),
      domainName: name,
      selector: key.selector,
      algorithm: key.algorithm,
      active: key.active,
      publicKey: key.publicKey,
      dnsName: `${key.selector}._domainkey.${name}.`,
      dnsValue: txt(dkimRecordText(key)),
      createdAt: iso(key.createdAt),
      retiredAt: key.retiredAt === null ? null : iso(key.retiredAt),
    };
  };
  const find = async (id: number, wireId: string, caller: Caller) => {
    requireAdmin(caller);
    const key = await keys.get(id);
    if (!key) throw new NotFoundError("DkimKey", wireId);
    return key;
  };
  const refused = () =>
    Promise.reject(
      new ForbiddenError("DKIM keys are made by the server: with a domain, and by the RotateDkimKeys action"),
    );
  return {
    create: refused,
    update: refused,
    get: async (id, wireId, caller) => await toWire(await find(id, wireId, caller), new Map()),
    list: async (caller) => {
      requireAdmin(caller);
      const names = new Map<number, string>();
      const out: WireObject[] = [];
      for (const key of await keys.list()) out.push(await toWire(key, names));
      return out;
    },
    delete: async (id, wireId, caller) => {
      const key = await find(id, wireId, caller);
      const wire = await toWire(key, new Map());
      await keys.deleteRetired(key.id);
      return wire;
    },
  };
}
