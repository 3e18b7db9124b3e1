/**
 * `x:Action`: commands run by creating an action object. Actions are not stored; the create answer
 * reports what was done (and, for a report action such as DnsRecords, the data asked for).
 * Administrators only.
 */
import type { AccountService, ObjectService } from "../../directory/mod.ts";
import { ForbiddenError, InvalidInputError } from "../../model/errors.ts";
import { ACTIONS, type ActionSpec, REPORT_ACTIONS } from "../../model/actions.ts";
import type { MailEndpoints } from "../../model/dns_records.ts";
import type { Principal } from "../../model/types.ts";
import type { DataType } from "../standard/data_type.ts";
import { CAPABILITY } from "../types.ts";
import { checkManagementAccount } from "./account_scope.ts";

/** What actions run besides invalidations. */
export interface ActionDeps {
  accounts: AccountService;
  objects: ObjectService;
  /** Makes a new ID-token signing key current; returns its kid. */
  rotateSigningKey: () => Promise<string>;
  /** Where mail clients reach this server (DnsRecords); undefined where it is not known. */
  mailEndpoints?: MailEndpoints;
  /** The outbound queue's commands (RetryQueuedMessages, CancelQueuedMessages). */
  queue?: QueueCommands;
}

/** Commands on queued messages by wire id; an unknown id is refused before anything is done. */
export interface QueueCommands {
  /** Makes the next attempt of the deferred recipients now (null: of every message); how many. */
  retry(ids: string[] | null, caller: Principal): Promise<number>;
  /** Cancels the recipients still to deliver, without a bounce; how many. */
  cancel(ids: string[], caller: Principal): Promise<number>;
}

/** What an action that does more than an invalidation did: words, and data for a report. */
interface Outcome {
  said?: string;
  data?: Record<string, unknown>;
}

/** Actions whose effect is more than an invalidation event. */
const RUNS: Record<
  string,
  (deps: ActionDeps, args: Record<string, unknown>, caller: Principal) => Promise<Outcome>
> = {
  RotateSigningKey: async (deps) => ({ said: `New signing key ${await deps.rotateSigningKey()}` }),
  async DnsRecords(deps, args) {
    if (!deps.mailEndpoints) throw new ForbiddenError("DNS records are listed by a server or the local CLI");
    const { domain, records } = await deps.objects.dnsRecords(args.domain, deps.mailEndpoints);
    return { said: `${records.length} records for ${domain}`, data: { domain, records } };
  },
  async RotateDkimKeys(deps, args, caller) {
    const { domain, selectors } = await deps.objects.rotateDkimKeys(args.domain, caller);
    return { said: `${domain} signs with ${selectors.join(" and ")}`, data: { domain, selectors } };
  },
  async RetryQueuedMessages(deps, args, caller) {
    const ids = args.ids === undefined || args.ids === null ? null : queuedIds(args.ids);
    const retried = await queueOf(deps).retry(ids, caller);
    return { said: `${retried} recipient${retried === 1 ? "" : "s"}`, data: { recipients: retried } };
  },
  async CancelQueuedMessages(deps, args, caller) {
    if (args.ids === undefined || args.ids === null) {
      throw new InvalidInputError("CancelQueuedMessages needs ids", [{
        property: "ids",
        message: "required",
      }]);
    }
    const canceled = await queueOf(deps).cancel(queuedIds(args.ids), caller);
    return { said: `${canceled} recipient${canceled === 1 ? "" : "s"}`, data: { recipients: canceled } };
  },
};

function queueOf(deps: ActionDeps): QueueCommands {
  if (!deps.queue) throw new ForbiddenError("The outbound queue is managed by a server or the local CLI");
  return deps.queue;
}

/** The `ids` argument: a list of at most 1,000 queued-message ids. */
function queuedIds(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 1000 || !value.every((id) => typeof id === "string")) {
    throw new InvalidInputError('"ids" must be a list of at most 1000 QueuedMessage ids', [
      { property: "ids", message: "a list of ids" },
    ]);
  }
  return value;
}

const ALL_ACTIONS: readonly ActionSpec[] = [...ACTIONS, ...REPORT_ACTIONS];

/** Names of the actions, for the schema document. */
export const ACTION_NAMES = ALL_ACTIONS.map((a) => a.name);

/** The x:Action data type. */
export function actionType(deps: ActionDeps): DataType {
  const { accounts } = deps;
  let sequence = 0;
  return {
    name: "x:Action",
    capability: CAPABILITY.management,
    changeType: "Action",
    properties: [
      "id",
      "@type",
      "description",
      "completedAt",
      "domain",
      "records",
      "selectors",
      "ids",
      "recipients",
    ],
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
      const action = ALL_ACTIONS.find((a) => a.name === name);
      const unknown = Object.keys(object).filter((k) => k !== "@type" && !action?.arguments?.includes(k));
      if (!action || unknown.length) {
        throw new InvalidInputError(
          action ? `Unknown property "${unknown[0]}" for action ${name}` : `Unknown action "${String(name)}"`,
          [{ property: action ? unknown[0] : "@type", message: `actions: ${ACTION_NAMES.join(", ")}` }],
        );
      }
      const event = action.event;
      if (event) await accounts.write(() => Promise.resolve({ result: undefined, events: [event] }));
      const run = Object.hasOwn(RUNS, action.name) ? RUNS[action.name] : undefined;
      const outcome = run ? await run(deps, object, ctx.principal) : {};
      return {
        id: `action-${++sequence}`,
        "@type": name,
        description: outcome.said ? `${action.done}: ${outcome.said}` : action.done,
        completedAt: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        ...outcome.data,
      };
    },
  };
}
