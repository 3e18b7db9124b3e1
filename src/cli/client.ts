/**
 * The object client behind the CLI verbs: the same operations on the local database file (through
 * the services) or on a server (through JMAP), so every verb works the same way in both modes.
 */
import { requireId, reserveId, resolveObjectType, type WireObject } from "../directory/mod.ts";
import { applyPatch, PointerError } from "../model/json_pointer.ts";
import { InvalidInputError } from "../model/errors.ts";
import type { Services } from "../services.ts";
import { getLogger } from "@logtape/logtape";
import { managementEngine, schemaDocument } from "../jmap/mod.ts";
import { VERSION } from "../version.ts";
import { encodeId } from "../model/ids.ts";
import type { Principal } from "../model/types.ts";
import type { MailEndpoints } from "../model/dns_records.ts";
import { checkResponses, type Invocation, jmapCalls, jmapType, USING } from "./jmap_calls.ts";
export { jmapType };

/** Object operations as the CLI uses them. */
export interface ObjectClient {
  get(type: string, id: string): Promise<WireObject>;
  /** Every object matching exact-value conditions (paged through to the end). */
  query(type: string, where: Record<string, unknown>, fields?: string[]): Promise<WireObject[]>;
  create(type: string, fields: WireObject): Promise<WireObject>;
  /** Applies a patch whose keys may be JSON pointers such as `quotas/maxDiskQuota`. */
  update(type: string, id: string, patch: WireObject): Promise<WireObject>;
  delete(type: string, id: string): Promise<WireObject>;
  /** Runs an action (x:Action) by its @type; returns what was done, in words. */
  action(name: string): Promise<string>;
  /** Runs an action with arguments (a report such as DnsRecords); returns the action object. */
  report(name: string, args: Record<string, unknown>): Promise<WireObject>;
  /** The schema document's types. */
  schema(): Promise<Record<string, unknown>[]>;
  /** Whether secrets such as password hashes can be exported (local mode only). */
  readonly local: boolean;
  /** The password hash of an account, for snapshots in local mode. */
  passwordHash?(accountId: string): Promise<string | undefined>;
  /** Makes `id` the id of the next object of the type if it was never used (local mode only). */
  reserveId?(type: string, id: string): Promise<boolean>;
  /** The credential key and keyed hashes (src/directory/keyed_secrets.ts), in local mode only. */
  secrets?: {
    key(): Promise<string>;
    setKey(base64: string): Promise<void>;
    hash(kind: "credential" | "client", id: string): Promise<string | undefined>;
    setHash(kind: "credential" | "client", id: string, hash: string): Promise<void>;
  };
}

/** Splits a patch into the top-level properties it touches, applied to the current object. */
export function patchToChanges(current: WireObject, patch: WireObject): WireObject {
  let patched: WireObject;
  try {
    patched = applyPatch(current, patch);
  } catch (error) {
    if (error instanceof PointerError) throw new InvalidInputError(error.message);
    throw error;
  }
  const touched = new Set(Object.keys(patch).map((k) => k.split("/")[0]));
  return Object.fromEntries([...touched].map((k) => [k, patched[k]]));
}

/** The administrator the local engine acts as: account 0, which no stored account has. */
const LOCAL_ADMIN: Principal = {
  accountId: 0,
  name: "system",
  roles: ["admin"],
  method: "password",
  credentialId: null,
};

/**
 * The client over the local database file: the services act as the system (full rights). Queries
 * and actions run the server's own management methods in this process, so a filter finds the same
 * objects here as over --url.
 */
export function localClient(
  services: Services,
  options: { mailEndpoints?: MailEndpoints } = {},
): ObjectClient {
  const objects = services.objects;
  const engine = managementEngine({
    objects,
    accounts: services.accounts,
    changes: services.changes,
    rotateSigningKey: () => services.oauth.rotateSigningKey(),
    mailEndpoints: options.mailEndpoints,
    queue: services.queueView,
    log: getLogger(["postern", "cli"]),
  });
  const request = async (calls: Invocation[]) => {
    const response = await engine.process({ using: USING, methodCalls: calls }, {
      principal: LOCAL_ADMIN,
      baseUrl: "http://localhost",
      sessionState: () => "0",
    });
    return checkResponses(response.methodResponses as Invocation[]);
  };
  const jmap = jmapCalls(request, encodeId(LOCAL_ADMIN.accountId));
  return {
    local: true,
    get: (type, id) => objects.get(type, id, "system"),
    query: jmap.query,
    action: jmap.action,
    report: jmap.report,
    create: (type, fields) => objects.create(type, fields, "system"),
    async update(type, id, patch) {
      const current = await objects.get(type, id, "system");
      return await objects.update(type, id, patchToChanges(current, patch), "system");
    },
    delete: (type, id) => objects.delete(type, id, "system"),
    schema: localSchema,
    passwordHash: (accountId) => services.accounts.passwordHash(requireId(accountId, "id")),
    reserveId: (type, id) => reserveId(services.store, resolveObjectType(type).spec.name, id),
    secrets: {
      key: () => services.keyedSecrets.key(),
      setKey: (base64) => services.keyedSecrets.setKey(base64),
      hash: (kind, id) => services.keyedSecrets.hash(kind, requireId(id, "id")),
      setHash: (kind, id, hash) => services.keyedSecrets.setHash(kind, requireId(id, "id"), hash),
    },
  };
}

/** The schema types of this program: the document a server of this version serves at /api/schema. */
export function localSchema(): Promise<Record<string, unknown>[]> {
  return Promise.resolve(
    (JSON.parse(schemaDocument(VERSION).body) as { types: Record<string, unknown>[] }).types,
  );
}
