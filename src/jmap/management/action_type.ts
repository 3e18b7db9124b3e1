/**
 * `x:Action`: commands run by creating an action object. Actions are not stored; the create answer
 * reports what was done. Administrators only.
 */
import type { AccountService } from "../../directory/mod.ts";
import { ForbiddenError, InvalidInputError } from "../../model/errors.ts";
import type { InvalidationEvent } from "../../model/types.ts";
import type { DataType } from "../standard/data_type.ts";
import { CAPABILITY } from "../types.ts";
import { checkManagementAccount } from "./account_scope.ts";

/** What actions run besides invalidations. */
export interface ActionDeps {
  accounts: AccountService;
  /** Makes a new ID-token signing key current; returns its kid. */
  rotateSigningKey: () => Promise<string>;
}

interface Action {
  description: string;
  /** Written to the invalidation log so every process drops its entries, not only this one. */
  event?: InvalidationEvent;
  run?: (deps: ActionDeps) => Promise<string>;
}

const ACTIONS: Record<string, Action> = {
  InvalidateCaches: { description: "Dropped every cache entry in every process", event: { kind: "all" } },
  InvalidateNegativeCaches: {
    description: "Dropped every negative (not found) cache entry in every process",
    event: { kind: "negative" },
  },
  RotateSigningKey: {
    description:
      "Published a new ID-token signing key, which signs once cached key sets have expired; the old public keys stay published",
    run: async (deps) => `New signing key ${await deps.rotateSigningKey()}`,
  },
};

/** Names of the actions, for the schema document. */
export const ACTION_NAMES = Object.keys(ACTIONS);

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
      const action = typeof name === "string" && Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
      const unknown = Object.keys(object).filter((k) => k !== "@type");
      if (!action || unknown.length) {
        throw new InvalidInputError(
          action ? `Unknown property "${unknown[0]}" for action ${name}` : `Unknown action "${String(name)}"`,
          [{ property: action ? unknown[0] : "@type", message: `actions: ${ACTION_NAMES.join(", ")}` }],
        );
      }
      const event = action.event;
      if (event) await accounts.write(() => Promise.resolve({ result: undefined, events: [event] }));
      const outcome = action.run ? await action.run(deps) : undefined;
      return {
        id: `action-${++sequence}`,
        "@type": name,
        description: outcome ? `${action.description}: ${outcome}` : action.description,
        completedAt: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      };
    },
  };
}
