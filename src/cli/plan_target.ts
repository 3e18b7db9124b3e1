/**
 * The checks of a dry run that need the target (src/cli/plan.ts): a create whose name is taken there
 * (or by an earlier line) and an update or delete of an id the target does not have fail the real run,
 * so they fail the dry run too.
 */
import { resolveObjectType, type WireObject } from "../directory/mod.ts";
import { NotFoundError } from "../model/errors.ts";
import type { ObjectClient } from "./client.ts";
import type { PlanOperation } from "./plan_secrets.ts";

/** Problems by line number. */
export async function targetProblems(
  client: ObjectClient,
  plan: { line: number; operation: PlanOperation }[],
): Promise<Map<number, string>> {
  const problems = new Map<number, string>();
  const names = new Map<string, Set<string>>();
  const namesOf = async (spec: string, path: string) => {
    if (!names.has(spec)) {
      const existing = await client.query(path, {});
      names.set(spec, new Set(existing.map((o: WireObject) => String(o.name))));
    }
    return names.get(spec)!;
  };
  for (const { line, operation } of plan) {
    if (operation.op === "credential-key") continue;
    const { spec } = resolveObjectType(operation.type);
    const path = operation.type.split("/")[0];
    const name = operation.fields?.name;
    if (operation.op === "create" && spec.fields.name && typeof name === "string") {
      const taken = await namesOf(spec.name, path);
      if (taken.has(name) && !operation.match?.includes("name")) {
        problems.set(
          line,
          `${spec.name} "${name}" already exists (add "match":["name"] to update it instead)`,
        );
      }
      taken.add(name);
    }
    const id = operation.id;
    if (operation.op !== "create" && id && !id.startsWith("#")) {
      try {
        await client.get(path, id);
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        problems.set(line, `${spec.name} "${id}" does not exist`);
      }
    }
  }
  return problems;
}
