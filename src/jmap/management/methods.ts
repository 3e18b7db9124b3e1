/**
 * The management methods (x:Account/query, x:Action/set, …) as one table, served by the server's
 * JMAP engine and, in local mode, by an engine of their own inside the CLI, so both modes filter,
 * page and refuse with the same code.
 */
import type { Logger } from "@logtape/logtape";
import type { AccountService, ChangeService, ObjectService } from "../../directory/mod.ts";
import type { MailEndpoints } from "../../model/dns_records.ts";
import { JmapEngine, type MethodDefinition } from "../engine.ts";
import type { StandardLimits } from "../standard/environment.ts";
import { standardMethods } from "../standard/methods.ts";
import { CAPABILITY } from "../types.ts";
import { actionType, type QueueCommands } from "./action_type.ts";
import { managementTypes } from "./object_types.ts";

/** What the management methods use. */
export interface ManagementMethodDeps {
  objects: ObjectService;
  accounts: AccountService;
  changes: ChangeService;
  /** Publishes a new ID-token signing key, current after a delay (the RotateSigningKey action). */
  rotateSigningKey: () => Promise<string>;
  /** Where mail clients reach this server (the DnsRecords action). */
  mailEndpoints?: MailEndpoints;
  /** The outbound queue's commands (RetryQueuedMessages, CancelQueuedMessages). */
  queue?: QueueCommands;
}

/** Every management method with its definition. */
export function managementMethods(
  deps: ManagementMethodDeps,
  limits: StandardLimits,
): [string, MethodDefinition][] {
  const types = [
    ...managementTypes({
      objects: deps.objects,
      accounts: deps.accounts,
      maxQueryLimit: limits.maxQueryLimit,
    }),
    actionType({
      accounts: deps.accounts,
      objects: deps.objects,
      rotateSigningKey: deps.rotateSigningKey,
      mailEndpoints: deps.mailEndpoints,
      queue: deps.queue,
    }),
  ];
  return types.flatMap((type) => standardMethods(type, { changes: deps.changes, limits }));
}

/** An engine with only the management methods, for local mode (the CLI on the database file). */
export function managementEngine(deps: ManagementMethodDeps & { log: Logger }): JmapEngine {
  const limits = { maxObjectsInGet: 500, maxObjectsInSet: 500, maxQueryLimit: 1000, maxChanges: 1000 };
  return new JmapEngine(
    new Map(managementMethods(deps, limits)),
    new Set([CAPABILITY.core, CAPABILITY.management]),
    { maxCallsInRequest: 16 },
    deps.log,
  );
}
