/**
 * `postern apply` and `postern snapshot`: a plan is one JSON operation per line, e.g.
 *   {"op":"create","type":"domain","ref":"d1","fields":{"name":"example.org"}}
 *   {"op":"create","type":"account/user","fields":{"name":"bob","domainId":"#d1"}}
 *   {"op":"update","type":"account","id":"c","fields":{"quotas/maxDiskQuota":1073741824}}
 *   {"op":"delete","type":"api-key","id":"f"}
 * A `ref` names what a create made; later lines use it as "#ref" wherever an id goes.
 */
import { resolveObjectType, type WireObject } from "../directory/mod.ts";
import { validateObject } from "../model/objects/mod.ts";
import type { ObjectClient } from "./client.ts";
import { type ConnectOptions, withClient } from "./connect.ts";
import { UsageError } from "./io.ts";

/** One operation of a plan. */
export interface PlanOperation {
  op: "create" | "update" | "delete";
  type: string;
  id?: string;
  ref?: string;
  fields?: WireObject;
}

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
    if (value === null || typeof value !== "object" || !["create", "update", "delete"].includes(op.op)) {
      throw new UsageError(`Plan line ${index + 1}: "op" must be create, update or delete`);
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
    if (
      op.op !== "delete" && (op.fields === null || typeof op.fields !== "object" || Array.isArray(op.fields))
    ) {
      throw new UsageError(`Plan line ${index + 1}: "${op.op}" needs a "fields" object`);
    }
    out.push({ line: index + 1, operation: op });
  });
  return out;
}

/** Replaces "#ref" strings by the ids created earlier in the plan. */
function substitute(value: unknown, refs: Map<string, string>): unknown {
  if (typeof value === "string" && value.startsWith("#") && refs.has(value.slice(1))) {
    return refs.get(value.slice(1));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, refs));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, refs)]));
  }
  return value;
}

function withPlaceholderIds(value: unknown): unknown {
  if (typeof value === "string" && value.startsWith("#")) return "b";
  if (Array.isArray(value)) return value.map(withPlaceholderIds);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withPlaceholderIds(v)]));
  }
  return value;
}

/** Runs (or with --dry-run, checks) a plan read from a file or standard input. */
export async function applyCommand(file: string | undefined, options: ApplyOptions): Promise<void> {
  const text = !file || file === "-"
    ? await new Response(Deno.stdin.readable).text()
    : await Deno.readTextFile(file);
  const plan = parsePlan(text);
  if (options.dryRun) {
    let problems = 0;
    for (const { line, operation } of plan) {
      const problem = checkOperation(operation);
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
      console.log(`Dry run: ${plan.length - problems} of ${plan.length} operations valid; nothing written`);
    }
    if (problems) Deno.exit(1);
    return;
  }
  const failures = await withClient(options, (client) => runPlan(client, plan, options));
  if (failures) Deno.exit(1);
}

function checkOperation(operation: PlanOperation): string | undefined {
  if (operation.op === "delete") return undefined;
  const { spec, variant } = resolveObjectType(operation.type);
  const fields = Object.fromEntries(Object.entries(operation.fields ?? {}).filter(([k]) => !k.includes("/")));
  // References resolve only when the plan runs; check them here as some well-formed id.
  const placeholders = withPlaceholderIds(fields) as WireObject;
  const result = validateObject(spec, placeholders, {
    mode: operation.op,
    variant: variant ?? (fields["@type"] as string | undefined),
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
      const fields = substitute(operation.fields ?? {}, refs) as WireObject;
      const id = operation.id === undefined ? undefined : substitute(operation.id, refs) as string;
      let result: WireObject;
      if (operation.op === "create") result = await client.create(operation.type, fields);
      else if (operation.op === "update") result = await client.update(operation.type, id!, fields);
      else result = await client.delete(operation.type, id!);
      if (operation.ref) refs.set(operation.ref, String(result.id));
      report(options, {
        line,
        op: operation.op,
        type: operation.type,
        ok: true,
        id: result.id,
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
          console.error(
            `Stopped at line ${line}; later lines were not applied (--continue-on-error goes on)`,
          );
        }
        return failures;
      }
    }
  }
  if (!options.json) console.log(`Applied ${plan.length - failures} of ${plan.length} operations`);
  return failures;
}

function report(options: ApplyOptions, entry: Record<string, unknown>): void {
  if (options.json) {
    console.log(JSON.stringify(entry));
    return;
  }
  const where = `line ${entry.line}: ${entry.op} ${entry.type}`;
  if (entry.ok) {
    console.log(
      `ok    ${where}${entry.id ? ` → ${entry.id}` : ""}${entry.secret ? ` (secret: ${entry.secret})` : ""}`,
    );
  } else console.error(`error ${where}: ${entry.error}`);
}

const SERVER_SET = new Set(["id", "emailAddress", "createdAt", "updatedAt", "lastUsedAt", "secret"]);

/** Prints the directory as a plan that recreates it: domains, groups, users, then settings. */
export async function snapshotCommand(types: string[], options: ConnectOptions): Promise<void> {
  const wanted = types.length
    ? types.map((t) => resolveObjectType(t).spec.name)
    : ["Domain", "Account", "Cache", "Authentication"];
  await withClient(options, async (client) => {
    const lines: PlanOperation[] = [];
    const ref = (kind: string, id: unknown) => `#${kind}-${id}`;
    if (wanted.includes("Domain")) {
      for (const d of await client.query("domain", {})) {
        lines.push({ op: "create", type: "domain", ref: `domain-${d.id}`, fields: strip(d) });
      }
    }
    if (wanted.includes("Account")) {
      const accounts = await client.query("account", {});
      // Groups first, so users can name them as memberGroupIds.
      accounts.sort((a, b) => (a["@type"] === "Group" ? 0 : 1) - (b["@type"] === "Group" ? 0 : 1));
      let masked = false;
      for (const a of accounts) {
        const fields = strip(a);
        if (wanted.includes("Domain")) fields.domainId = ref("domain", a.domainId);
        fields.memberGroupIds = Object.fromEntries(
          Object.entries(a.memberGroupIds as Record<string, string>).map(([k, g]) => [k, ref("account", g)]),
        );
        delete fields.credentials;
        if (a.credentials) {
          const hash = client.passwordHash ? await client.passwordHash(String(a.id)) : undefined;
          if (hash) fields.credentials = { "0": { "@type": "Password", secret: hash } };
          else masked = true;
        }
        const type = a["@type"] === "Group" ? "account/group" : "account/user";
        delete fields["@type"];
        lines.push({ op: "create", type, ref: `account-${a.id}`, fields });
      }
      if (masked) {
        console.error("Passwords are not exported over --url; snapshot with --data to include their hashes.");
      }
    }
    for (const singleton of ["Cache", "Authentication"]) {
      if (!wanted.includes(singleton)) continue;
      const type = singleton.toLowerCase();
      lines.push({ op: "update", type, id: "singleton", fields: strip(await client.get(type, "singleton")) });
    }
    for (const line of lines) console.log(JSON.stringify(line));
  });
}

function strip(object: WireObject): WireObject {
  return Object.fromEntries(Object.entries(object).filter(([k]) => !SERVER_SET.has(k)));
}
