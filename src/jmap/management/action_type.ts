/**
 * `x:Action`: commands run by creating an action object. Actions are not stored; the create answer
 * reports what was done. Administrators only.
 */
import type { AccountService } from "../../directory/mod.ts";
import { ForbiddenError, InvalidInputError } from "../../model/errors.ts";
import { ACTIONS } from "../../model/actions.ts";
import type { DataType } from "../standard/data_type.ts";
import { CAPABILITY } from "../types.ts";
import { checkManagementAccount } from "./account_scope.ts";

/** What actions run besides invalidations. */
export interface ActionDeps {
  accounts: AccountService;
  /** Makes a new ID-token signing key current; returns its kid. */
  rotateSigningKey: () => Promise<string>;
}

/** Actions whose effect is more than an invalidation event. */
const RUNS: Record<string, (deps: ActionDeps) => Promise<string>> = {
  RotateSigningKey: async (deps) => `New signing key ${await deps.rotateSigningKey()}`,
};

/** Names of the actions, for the schema document. */
export const ACTION_NAMES = ACTIONS.map((a) => a.name);

/** The x:Action data type. */
export function actionType(deps: ActionDeps): DataType {
  const { accounts } = deps;
  let sequence = 0;
  return {
    name: "x:Action",
    capability: CAPABILITY.management,
    changeType: "Action",
    properties: ["id", "@type", "description", "completedAt"],
    idProperties: [],
    defaults: {},
    wireId: (id) => `action-${id}`,
    checkAccount: (ctx, accountId) => checkManagementAccount(accounts, ctx, accountId),
    conditions: {},
    sortable: [],
    get: (_ctx, ids) => Promise.resolve({ list: [], notFound: ids ?? [] }),
    async create(ctx, object) {
      if (!ctx.principal.roles.includes("admin")) {
        throw new ForbiddenError("Only an administrator can run actions");
      }
      const name = object["@type"];
      const action = ACTIONS.find((a) => a.name === name);
      const unknown = Object.keys(object).filter((k) => k !== "@type");
      if (!action || unknown.length) {
        throw new InvalidInputError(
          action ? `Unknown property "${unknown[0]}" for action ${name}` : `Unknown action "${String(name)}"`,
          [{ property: action ? unknown[0] : "@type", message: `actions: ${ACTION_NAMES.join(", ")}` }],
        );
      }
      const event = action.event;
      if (event) await accounts.write(() => Promise.resolve({ result: undefined, events: [event] }));
      const run = Object.hasOwn(RUNS, action.name) ? RUNS[action.name] : undefined;
      const outcome = run ? await run(deps) : undefined;
      return {
        id: `action-${++sequence}`,
        "@type": name,
        description: outcome ? `${action.done}: ${outcome}` : action.done,
        completedAt: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      };
    },
  };
}
