/**
 * `postern apply` (`snapshot` writes plans: src/cli/snapshot.ts): a plan is one JSON operation per line, e.g.
 *   {"op":"create","type":"domain","ref":"d1","fields":{"name":"example.org"}}
 *   {"op":"create","type":"account/user","fields":{"name":"bob","domainId":"#d1"}}
 *   {"op":"update","type":"account","id":"c","fields":{"quotas/maxDiskQuota":1073741824}}
 *   {"op":"delete","type":"api-key","id":"f"}
 * A `ref` names what a create made; later lines use it as "#ref" wherever an id goes; a ref no
 * earlier line defines is an error (in a dry run too). `"match":["name"]` on a create updates the
 * object with those field values when one exists (the domain, admin and API key `init` made)
 * instead of creating a second one or failing. An `id` on a create asks for that id (local mode,
 * when the id was never used; otherwise the report says `wantedId`). A `credential-key` line and
 * `secretHash` on creates carry keyed secrets (src/cli/plan_secrets.ts). A dry run makes the same
 * checks as the real run, on the target too (src/cli/plan_target.ts).
 */
import { resolveObjectType, type WireObject } from "../directory/mod.ts";
import { validateObject } from "../model/objects/mod.ts";
import type { ObjectClient } from "./client.ts";
import { type ConnectOptions, withClient } from "./connect.ts";
import { UsageError } from "./io.ts";
import { complain, exit, say, streams } from "./streams.ts";
import { applySecrets, type PlanOperation, secretProblem } from "./plan_secrets.ts";
export type { PlanOperation };
import { targetProblems } from "./plan_target.ts";

/** Options of `apply`. */
export interface ApplyOptions extends ConnectOptions {
  dryRun?: boolean;
  continueOnError?: boolean;
}

/** Parses a plan; a malformed line is a usage error naming its line number. */
export function parsePlan(text: string): { line: number; operation: PlanOperation }[] {
  const out: { line: number; operation: PlanOperation }[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith("//")) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`Plan line ${index + 1} is not valid JSON: ${(error as Error).message}`);
    }
    const op = value as PlanOperation;
    if (
      value === null || typeof value !== "object" || Array.isArray(value) ||
      !["create", "update", "delete", "credential-key"].includes(op.op)
    ) {
      throw new UsageError(`Plan line ${index + 1}: "op" must be create, update, delete or credential-key`);
    }
    if (op.op === "credential-key") {
      const extra = Object.keys(op).find((k) => k !== "op" && k !== "secret");
      if (extra) throw new UsageError(`Plan line ${index + 1}: unknown key "${extra}"`);
      out.push({ line: index + 1, operation: op });
      return;
    }
    if (typeof op.type !== "string") throw new UsageError(`Plan line ${index + 1}: "type" is required`);
    try {
      resolveObjectType(op.type);
    } catch (error) {
      throw new UsageError(`Plan line ${index + 1}: ${(error as Error).message}`);
    }
    if (op.op !== "create" && typeof op.id !== "string") {
      throw new UsageError(`Plan line ${index + 1}: "${op.op}" needs an "id"`);
    }
    if (op.id !== undefined && typeof op.id !== "string") {
      throw new UsageError(`Plan line ${index + 1}: "id" must be a string`);
    }
    if (
      op.op !== "delete" && (op.fields === null || typeof op.fields !== "object" || Array.isArray(op.fields))
    ) {
      throw new UsageError(`Plan line ${index + 1}: "${op.op}" needs a "fields" object`);
    }
    if (
      op.match !== undefined &&
      (op.op !== "create" || !Array.isArray(op.match) || !op.match.every((f) => typeof f === "string"))
    ) {
      throw new UsageError(`Plan line ${index + 1}: "match" must be a list of field names, on a create`);
    }
    const known = new Set(Object.keys(op));
    for (const key of ["op", "type", "id", "ref", "match", "fields", "secretHash"]) known.delete(key);
    if (known.size) {
      throw new UsageError(`Plan line ${index + 1}: unknown key "${[...known][0]}"`);
    }
    out.push({ line: index + 1, operation: op });
  });
  return out;
}

/**
 * Replaces "#ref" strings by the ids created earlier in the plan. In an id (the line's `id`, a field
 * declared as an `Id<…>`) a "#…" that names no earlier ref is an error; elsewhere it is text.
 */
function substitute(value: unknown, refs: Map<string, string>, strict: boolean): unknown {
  if (typeof value === "string" && value.startsWith("#")) {
    const id = refs.get(value.slice(1));
    if (id === undefined && strict) throw new Error(`"${value}" names no ref of an earlier line`);
    return id ?? value;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, refs, strict));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, refs, strict)]));
  }
  return value;
}

/** The line's id and fields with refs replaced by ids. */
function resolveRefs(
  operation: PlanOperation,
  refs: Map<string, string>,
): { id?: string; fields: WireObject } {
  const { spec } = resolveObjectType(operation.type);
  const fields = Object.fromEntries(
    Object.entries(operation.fields ?? {}).map(([k, v]) => {
      const isId = Object.hasOwn(spec.fields, k) && spec.fields[k].type.includes("Id<");
      return [k, substitute(v, refs, isId)];
    }),
  );
  const id = operation.id === undefined ? undefined : substitute(operation.id, refs, true) as string;
  return { id, fields };
}

/** Runs (or with --dry-run, checks) a plan read from a file or standard input. */
export async function applyCommand(file: string | undefined, options: ApplyOptions): Promise<void> {
  const text = !file || file === "-"
    ? await new Response(streams().stdin()).text()
    : await Deno.readTextFile(file);
  const plan = parsePlan(text);
  if (options.dryRun) {
    let problems = 0;
    // The refs the real run would know at each line (a placeholder id stands for the created one).
    const refs = new Map<string, string>();
    const local = !(options.url ?? streams().env.POSTERN_URL);
    const onTarget = await withClient(options, (client) => targetProblems(client, plan));
    for (const { line, operation } of plan) {
      const problem = secretProblem(operation, local) ?? checkOperation(operation, refs) ??
        onTarget.get(line);
      if (operation.ref) refs.set(operation.ref, "b");
      if (problem) problems++;
      report(options, {
        line,
        op: operation.op,
        type: operation.type,
        ok: !problem,
        ...(problem ? { error: problem } : {}),
      });
    }
    if (!options.json) {
      say(`Dry run: ${plan.length - problems} of ${plan.length} operations valid; nothing written`);
    }
    if (problems) exit(1);
    return;
  }
  const failures = await withClient(options, (client) => runPlan(client, plan, options));
  if (failures) exit(1);
}

function checkOperation(operation: PlanOperation, refs: Map<string, string>): string | undefined {
  if (operation.op === "credential-key") return undefined;
  let placeholders: WireObject;
  try {
    // References resolve only when the plan runs; here each stands for some well-formed id.
    placeholders = resolveRefs(operation, refs).fields;
  } catch (error) {
    return (error as Error).message;
  }
  if (operation.op === "delete") return undefined;
  const { spec, variant } = resolveObjectType(operation.type);
  placeholders = Object.fromEntries(Object.entries(placeholders).filter(([k]) => !k.includes("/")));
  const result = validateObject(spec, placeholders, {
    mode: operation.op,
    variant: variant ?? (placeholders["@type"] as string | undefined),
  });
  return result.ok ? undefined : result.problems.map((p) => `${p.property}: ${p.message}`).join("; ");
}

async function runPlan(
  client: ObjectClient,
  plan: { line: number; operation: PlanOperation }[],
  options: ApplyOptions,
): Promise<number> {
  const refs = new Map<string, string>();
  let failures = 0;
  for (const { line, operation } of plan) {
    try {
      const problem = secretProblem(operation, client.secrets !== undefined);
      if (problem) throw new Error(problem);
      let result: WireObject = {};
      const { id, fields } = operation.op === "credential-key"
        ? { fields: {} }
        : resolveRefs(operation, refs);
      let matched = false;
      if (operation.op === "create") ({ result, matched } = await createOrMatch(client, operation, fields));
      else if (operation.op === "update") result = await client.update(operation.type, id!, fields);
      else if (operation.op === "delete") result = await client.delete(operation.type, id!);
      result = await applySecrets(client, operation, result);
      if (operation.ref) refs.set(operation.ref, String(result.id));
      report(options, {
        line,
        op: operation.op,
        type: operation.type,
        ok: true,
        id: result.id,
        ...(matched ? { matched: true } : {}),
        ...(operation.op === "create" && operation.id !== undefined && operation.id !== String(result.id)
          ? { wantedId: operation.id }
          : {}),
        ...(result.secret ? { secret: result.secret } : {}),
      });
    } catch (error) {
      failures++;
      report(options, {
        line,
        op: operation.op,
        type: operation.type,
        ok: false,
        error: (error as Error).message,
      });
      if (!options.continueOnError) {
        if (!options.json) {
          complain(
            `Stopped at line ${line}; later lines were not applied (--continue-on-error goes on)`,
          );
        }
        return failures;
      }
    }
  }
  if (!options.json) say(`Applied ${plan.length - failures} of ${plan.length} operations`);
  return failures;
}

/** A create; with `match`, an update of the object whose match fields are equal, if there is one. */
async function createOrMatch(
  client: ObjectClient,
  operation: PlanOperation,
  fields: WireObject,
): Promise<{ result: WireObject; matched: boolean }> {
  const type = operation.type.split("/")[0];
  if (operation.match?.length) {
    const where = Object.fromEntries(operation.match.map((f) => [f, fields[f]]));
    const candidates = await client.query(type, typeof where.name === "string" ? { name: where.name } : {});
    const existing = candidates.find((o) => operation.match!.every((f) => o[f] === fields[f]));
    if (existing) {
      const { "@type": _variant, ...patch } = fields;
      // Write-once fields (an API key's owner) are equal by the match; an update may not name them.
      for (const f of operation.match) if (f !== "name") delete patch[f];
      for (const [k, v] of Object.entries(patch)) {
        if (k !== "credentials" && JSON.stringify(existing[k] ?? null) === JSON.stringify(v)) delete patch[k];
      }
      if (!Object.keys(patch).length) return { result: existing, matched: true };
      return { result: await client.update(type, String(existing.id), patch), matched: true };
    }
  }
  // A create with an id asks for that id (a snapshot keeps its ids); the report says when it differs.
  if (operation.id !== undefined && client.reserveId) await client.reserveId(operation.type, operation.id);
  return { result: await client.create(operation.type, fields), matched: false };
}

function report(options: ApplyOptions, entry: Record<string, unknown>): void {
  if (options.json) {
    say(JSON.stringify(entry));
    return;
  }
  const where = `line ${entry.line}: ${entry.op}${entry.type ? ` ${entry.type}` : ""}`;
  if (entry.ok) {
    say(
      `ok    ${where}${entry.id ? ` → ${entry.id}` : ""}${entry.matched ? " (matched an existing one)" : ""}${
        entry.wantedId ? ` (not ${entry.wantedId}: that id is taken)` : ""
      }${entry.secret ? ` (secret: ${entry.secret})` : ""}`,
    );
  } else complain(`error ${where}: ${entry.error}`);
}
