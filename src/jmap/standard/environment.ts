/** What every standard method works with besides its arguments and the request context. */
import { decodeId } from "../../model/ids.ts";
import type { DataType } from "./data_type.ts";
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

/** The data type a method serves, its change feed and its limits. */
export interface StandardEnvironment {
  type: DataType;
  changes: ChangeFeed;
  limits: StandardLimits;
}

/** The change-log scope of a call: the account for per-account types, null for directory-wide ones. */
export function changeScope(env: StandardEnvironment, accountId: string): number | null {
  return env.type.perAccount ? decodeId(accountId) ?? null : null;
}

/** The current state string of the environment's type in the call's account. */
export function currentState(env: StandardEnvironment, accountId: string): Promise<string> {
  return env.changes.state(env.type.changeType, changeScope(env, accountId));
}
