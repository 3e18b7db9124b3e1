/** The standard methods of RFC 8620 §5 for any data type: /get, /set, /changes, /query, /queryChanges. */
import type { MethodDefinition } from "../engine.ts";
import { changes } from "./changes.ts";
import type { DataType } from "./data_type.ts";
import { get } from "./get.ts";
import { query, queryChanges } from "./query.ts";
import { set } from "./set.ts";
import type { ChangeFeed } from "./state.ts";

/** Limits the standard methods enforce. */
export interface StandardLimits {
  maxObjectsInGet: number;
  maxObjectsInSet: number;
  /** Largest page a /query returns when no smaller limit is asked for. */
  maxQueryLimit: number;
  /** Most changes one /changes call reports when the client sets no maxChanges. */
  maxChanges: number;
}

/** Builds the method table entries of one data type. */
export function standardMethods(
  type: DataType,
  deps: { changes: ChangeFeed; limits: StandardLimits },
): [string, MethodDefinition][] {
  const state = () => deps.changes.state(type.changeType, null);
  const entries: [string, MethodDefinition][] = [
    [`${type.name}/get`, {
      capability: type.capability,
      handler: (a, c) => get(type, state, deps.limits, a, c),
    }],
    [`${type.name}/set`, {
      capability: type.capability,
      handler: (a, c) => set(type, state, deps.limits, a, c),
    }],
  ];
  if (!type.singleton) {
    entries.push(
      [`${type.name}/changes`, { capability: type.capability, handler: (a, c) => changes(type, deps, a, c) }],
      [`${type.name}/query`, {
        capability: type.capability,
        handler: (a, c) => query(type, state, deps.limits, a, c),
      }],
      [`${type.name}/queryChanges`, {
        capability: type.capability,
        handler: (a, c) => queryChanges(type, deps, a, c),
      }],
    );
  }
  return entries;
}
