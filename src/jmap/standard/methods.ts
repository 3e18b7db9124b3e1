/** The standard methods of RFC 8620 §5 for any data type: /get, /set, /changes, /query, /queryChanges. */
import type { MethodDefinition } from "../engine.ts";
import { changes } from "./changes.ts";
import type { DataType } from "./data_type.ts";
import { get } from "./get.ts";
import { query, queryChanges } from "./query.ts";
import { set } from "./set.ts";
import type { ChangeFeed } from "./state.ts";
import type { StandardEnvironment, StandardLimits } from "./environment.ts";

export type { StandardLimits } from "./environment.ts";

/** Builds the method table entries of one data type. */
export function standardMethods(
  type: DataType,
  deps: { changes: ChangeFeed; limits: StandardLimits },
): [string, MethodDefinition][] {
  const env: StandardEnvironment = { type, ...deps };
  const methods = type.singleton ? { get, set } : { get, set, changes, query, queryChanges };
  return Object.entries(methods).map(([method, run]) => [
    `${type.name}/${method}`,
    { capability: type.capability, handler: (args, ctx) => run(args, ctx, env) },
  ]);
}
