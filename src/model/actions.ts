/**
 * The administrator's actions, one list for every surface: x:Action on the server
 * (src/jmap/management/action_type.ts), `postern action` in the CLI and the TUI's Actions screen.
 */
import type { InvalidationEvent } from "./types.ts";

/** One action: what it is called, what it does, and what it writes to the invalidation log. */
export interface ActionSpec {
  /** The x:Action @type, e.g. InvalidateCaches. */
  name: string;
  /** The CLI verb's argument, e.g. invalidate-caches. */
  command: string;
  /** What it does, as a menu line or help text. */
  description: string;
  /** What it did, in the create answer. */
  done: string;
  /** Asked before running, when the action has consequences worth a second thought. */
  confirm?: string;
  /** Written to the invalidation log so every process drops its entries, not only this one. */
  event?: InvalidationEvent;
  /** Properties the action takes besides @type (an action with some has a command of its own). */
  arguments?: readonly string[];
}

/** Every action, in menu order. */
export const ACTIONS: readonly ActionSpec[] = [
  {
    name: "InvalidateCaches",
    command: "invalidate-caches",
    description: "Drop every cache entry in every process",
    done: "Dropped every cache entry in every process",
    event: { kind: "all" },
  },
  {
    name: "InvalidateNegativeCaches",
    command: "invalidate-negative-caches",
    description: "Drop every negative (not found) cache entry in every process",
    done: "Dropped every negative (not found) cache entry in every process",
    event: { kind: "negative" },
  },
  {
    name: "RotateSigningKey",
    command: "rotate-signing-key",
    description:
      "Publish a new ID-token signing key; it signs in 10 minutes (old public keys stay published)",
    done:
      "Published a new ID-token signing key, which signs once cached key sets have expired; the old public keys stay published",
    confirm: "Rotate the ID-token signing key now?",
  },
];

/**
 * Actions that take arguments (reports such as DnsRecords, and commands on named objects); each has a CLI
 * command of its own (`postern dns DOMAIN`) and a place in the TUI, so they are not in the menu.
 */
export const REPORT_ACTIONS: readonly ActionSpec[] = [
  {
    name: "DnsRecords",
    command: "dns",
    description: "The DNS records a domain needs (MX, SPF, DMARC, DKIM, SRV, autoconfig)",
    done: "Listed the DNS records",
    arguments: ["domain"],
  },
  {
    name: "RotateDkimKeys",
    command: "dkim-rotate",
    description:
      "Make new DKIM keys for a domain; they sign from now on, the old public keys stay published until deleted",
    done: "Made new DKIM keys, which sign from now on; publish their records (postern dns)",
    arguments: ["domain"],
  },
  {
    name: "RetryQueuedMessages",
    command: "queue retry",
    description: "Deliver queued messages now: their deferred recipients' next attempt is now (no ids: all)",
    done: "Made the next attempt of the deferred recipients now",
    arguments: ["ids"],
  },
  {
    name: "CancelQueuedMessages",
    command: "queue cancel",
    description:
      "Stop delivering queued messages: their recipients still to deliver are canceled, without a bounce",
    done: "Canceled the recipients still to deliver",
    arguments: ["ids"],
  },
];

/** The action named by its @type or its command (case-insensitive), or undefined. */
export function findAction(name: string): ActionSpec | undefined {
  const wanted = name.toLowerCase();
  return ACTIONS.find((a) => a.name.toLowerCase() === wanted || a.command === wanted);
}
