/**
 * The `DkimKey` management type: the DKIM keys of every domain, read by administrators only (a key
 * pair is server configuration, not a user's business), destroyed when retired. Keys are made by
 * the server, never created or changed through this type.
 */
import type { ObjectHandler } from "../directory/mod.ts";
import { serverMadeHandler } from "../directory/mod.ts";
import { txt } from "../model/dns_records.ts";
import { encodeId } from "../model/ids.ts";
import type { DkimKeyRecord } from "../store/mod.ts";
import type { Store } from "./deps.ts";
import { type DkimKeyService, dkimRecordText } from "./dkim_keys.ts";

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The handler of `DkimKey` objects. */
export function dkimKeyHandler(store: Store, keys: DkimKeyService): ObjectHandler {
  return serverMadeHandler<DkimKeyRecord, Map<number, string>>({
    name: "DkimKey",
    adminsOnly: "DKIM keys are managed by administrators",
    madeBy: "DKIM keys are made by the server: with a domain, and by the RotateDkimKeys action",
    read: (id) => keys.get(id),
    all: () => keys.list(),
    memo: () => new Map(),
    toWire: async (key, names) => {
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
    },
    remove: async (key) => {
      await keys.deleteRetired(key.id);
    },
  });
}
