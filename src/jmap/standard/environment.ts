/** What every standard method works with besides its arguments and the request context. */
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

/** The current state string of the environment's type. */
export function currentState(env: StandardEnvironment): Promise<string> {
  return env.changes.state(env.type.changeType, null);
}
