/**
 * `postern snapshot`: the directory as a plan (see src/cli/plan.ts) that `apply` replays. Which types
 * it covers, in which order, and how references are written is worked out from the declarations in
 * src/model/objects/mod.ts, so a new management type is exported (or named as left out) without
 * a change here. Mail content is not part of a snapshot: `backup` copies it.
 */
import { resolveObjectType, type WireObject } from "../directory/mod.ts";
import { decodeId } from "../model/ids.ts";
import { OBJECT_SPECS, type ObjectSpec } from "../model/objects/mod.ts";
import type { ObjectClient } from "./client.ts";
import { type ConnectOptions, withClient } from "./connect.ts";
import { UsageError } from "./io.ts";
import { complain, say } from "./streams.ts";
import type { PlanOperation } from "./plan_secrets.ts";
import { keyedSecretKind } from "./plan_secrets.ts";

/** What a snapshot does with a type: `create` lines, one `update` of a singleton, or nothing. */
export type SnapshotTreatment =
  | { kind: "create" }
  | { kind: "settings" }
  | { kind: "left-out"; reason: string };

/** How a snapshot treats a type, from its declaration. */
export function snapshotTreatment(spec: ObjectSpec): SnapshotTreatment {
  if (spec.singleton) return { kind: "settings" };
  if (spec.readOnly) {
    return {
      kind: "left-out",
      reason: `${spec.name} objects are made by the server's own flows (sign-ins, sharing), not by a plan`,
    };
  }
  return { kind: "create" };
}

/** The CLI type path of a type name: `OAuthClient` → `oauth-client`. */
export function typePath(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase();
}

/** The types a field refers to, from its declared type (`Id<Account>`, `List<Id<Account>>`). */
function referencedType(spec: ObjectSpec, field: string): string | undefined {
  return /Id<(\w+)>/.exec(spec.fields[field]?.type ?? "")?.[1];
}

/** Every type in the order a plan must create them: a type after every other type it refers to. */
export function snapshotOrder(): ObjectSpec[] {
  const specs = Object.values(OBJECT_SPECS);
  const out: ObjectSpec[] = [];
  const visit = (spec: ObjectSpec, path: string[]) => {
    if (out.includes(spec) || path.includes(spec.name)) return;
    for (const field of Object.keys(spec.fields)) {
      const target = referencedType(spec, field);
      if (target && target !== spec.name && OBJECT_SPECS[target]) {
        visit(OBJECT_SPECS[target], [...path, spec.name]);
      }
    }
    out.push(spec);
  };
  for (const spec of specs) visit(spec, []);
  // Singletons last: settings are applied once the objects exist.
  return [...out.filter((s) => !s.singleton), ...out.filter((s) => s.singleton)];
}

/** The ref a snapshot gives an object: `account-c`. */
function refOf(typeName: string, id: unknown): string {
  return `${typePath(typeName)}-${id}`;
}

/** A snapshot: the plan lines, and what was left out (said on standard error). */
export interface Snapshot {
  lines: PlanOperation[];
  leftOut: string[];
}

/** Reads the directory through a client and writes it as a plan. */
export async function takeSnapshot(client: ObjectClient, wanted: Set<string>): Promise<Snapshot> {
  const lines: PlanOperation[] = [];
  const leftOut: string[] = [];
  const exported = new Set<string>();
  for (const spec of snapshotOrder()) {
    if (!wanted.has(spec.name)) continue;
    const treatment = snapshotTreatment(spec);
    if (treatment.kind === "left-out") {
      leftOut.push(treatment.reason);
      continue;
    }
    const path = typePath(spec.name);
    if (treatment.kind === "settings") {
      const fields = writable(spec, await client.get(path, "singleton"), leftOut);
      lines.push({ op: "update", type: path, id: "singleton", fields });
      continue;
    }
    const objects = await client.query(path, {});
    // Groups before users (and in general: an object before the objects of its type that name it).
    objects.sort((a, b) => (a["@type"] === "Group" ? 0 : 1) - (b["@type"] === "Group" ? 0 : 1));
    let secrets = 0;
    let passwords = 0;
    for (const object of objects) {
      const fields = writable(spec, object, spec.name === "Account" ? [] : leftOut);
      rewriteReferences(spec, fields, exported);
      if (spec.name === "Account" && object.credentials) {
        const hash = client.passwordHash ? await client.passwordHash(String(object.id)) : undefined;
        if (hash) fields.credentials = { "0": { "@type": "Password", secret: hash } };
        else passwords++;
      }
      const kind = keyedSecretKind(spec.name);
      const secretHash = kind && client.secrets
        ? await client.secrets.hash(kind, String(object.id))
        : undefined;
      if (kind && !secretHash && object["@type"] !== "Public") secrets++;
      const variant = typeof object["@type"] === "string" ? `/${object["@type"].toLowerCase()}` : "";
      lines.push({
        op: "create",
        type: path + variant,
        id: String(object.id),
        ref: refOf(spec.name, object.id),
        ...(matchFields(spec) ? { match: matchFields(spec) } : {}),
        fields,
        ...(secretHash ? { secretHash } : {}),
      });
    }
    exported.add(spec.name);
    if (passwords) {
      leftOut.push(
        `${passwords} account password(s): not exported over --url; snapshot with --data to include their hashes`,
      );
    }
    if (secrets) {
      leftOut.push(
        `${secrets} ${spec.name} secret(s): stored only as keyed hashes; apply creates new secrets and prints them`,
      );
    }
  }
  inIdOrder(lines);
  if (lines.some((l) => l.secretHash)) {
    lines.unshift({ op: "credential-key", secret: await client.secrets!.key() } as PlanOperation);
  }
  return { lines, leftOut: [...new Set(leftOut)] };
}

/**
 * Puts the creates of types no other type refers to (app passwords, API keys) in id order across
 * types: they may share one id sequence, and apply can give each its old id only in rising order.
 */
function inIdOrder(lines: PlanOperation[]): void {
  const specs = Object.values(OBJECT_SPECS);
  const referenced = new Set(
    specs.flatMap((s) => Object.keys(s.fields).map((f) => referencedType(s, f)).filter((t) => t !== s.name)),
  );
  const isLeaf = (l: PlanOperation) =>
    l.op === "create" && !referenced.has(resolveObjectType(l.type).spec.name);
  const leaves = lines.filter(isLeaf).sort((a, b) => (decodeId(a.id!) ?? 0) - (decodeId(b.id!) ?? 0));
  const at = lines.findIndex(isLeaf);
  if (at < 0) return;
  const rest = lines.filter((l) => !isLeaf(l));
  lines.splice(0, lines.length, ...rest.slice(0, at), ...leaves, ...rest.slice(at));
}

/** The fields that find the same object in another directory: a name, or an owner and description. */
export function matchFields(spec: ObjectSpec): string[] | undefined {
  if (spec.fields.name) return ["name"];
  if (spec.fields.accountId && spec.fields.description) return ["accountId", "description"];
  return undefined;
}

/** The fields a plan may write: no server-set ones, no masked secrets (named in `leftOut`). */
function writable(spec: ObjectSpec, object: WireObject, leftOut: string[]): WireObject {
  const out: WireObject = {};
  for (const [name, value] of Object.entries(object)) {
    const field = Object.hasOwn(spec.fields, name) ? spec.fields[name] : undefined;
    if (!field || field.serverSet || name === "@type") continue;
    if (field.writeOnly) {
      if (value !== null && value !== undefined) {
        leftOut.push(`${spec.name}.${name}: write-only, read back masked; set it again after apply`);
      }
      continue;
    }
    out[name] = value;
  }
  return out;
}

/** Writes ids of exported objects as "#refs", so the plan works where ids differ. */
function rewriteReferences(spec: ObjectSpec, fields: WireObject, exported: Set<string>): void {
  for (const [name, value] of Object.entries(fields)) {
    const target = referencedType(spec, name);
    if (!target || !(exported.has(target) || target === spec.name)) continue;
    if (typeof value === "string") fields[name] = `#${refOf(target, value)}`;
    else if (value && typeof value === "object") {
      fields[name] = Object.fromEntries(
        Object.entries(value).map(([k, id]) => [k, `#${refOf(target, id)}`]),
      );
    }
  }
}

/** Prints the directory as a plan that recreates it; what it leaves out is said on standard error. */
export async function snapshotCommand(types: string[], options: ConnectOptions): Promise<void> {
  const wanted = new Set<string>();
  for (const type of types) {
    try {
      wanted.add(resolveObjectType(type).spec.name);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  if (!types.length) { for (const name of Object.keys(OBJECT_SPECS)) wanted.add(name); }
  const snapshot = await withClient(options, (client) => takeSnapshot(client, wanted));
  for (const line of snapshot.lines) say(JSON.stringify(line));
  for (const note of snapshot.leftOut) complain(`postern: left out: ${note}`);
  if (snapshot.lines.some((l) => l.op === "credential-key" || JSON.stringify(l).includes("$argon2id$"))) {
    complain(
      "postern: this snapshot holds secrets (password hashes, the credential-key line, secretHash values): " +
        "keep it private; apply it with --data",
    );
  }
}
