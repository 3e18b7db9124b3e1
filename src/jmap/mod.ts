/** The JMAP surface: engine, standard methods, management types, session and routes. */
import type { Logger } from "@logtape/logtape";
import type { AccountService, ChangeService, ObjectService } from "../directory/mod.ts";
import type { InvalidationEvent, Principal } from "../model/types.ts";
import type { MailEndpoints } from "../model/dns_records.ts";
import {
  type BlobService,
  EMAIL_LIMITS,
  type EmailService,
  type IdentityService,
  MAILBOX_LIMITS,
  type MailboxService,
  type PushSubscriptionService,
  type ShareNotificationService,
  SUBMISSION_LIMITS,
  type SubmissionService,
  type VacationService,
} from "../mail/mod.ts";
import { JmapEngine, type MethodDefinition } from "./engine.ts";
import { emailMethods } from "./mail/email_methods.ts";
import { EMAIL_SORT_PROPERTIES } from "./mail/email_type.ts";
import { mailboxType } from "./mail/mailbox_type.ts";
import { mailboxChangesInView, mailboxQueryChangesInView } from "./mail/mailbox_changes.ts";
import { QUOTA_CAPABILITY, quotaFeed, quotaType } from "./mail/quota_type.ts";
import type { QueueCommands } from "./management/action_type.ts";
import { managementMethods } from "./management/methods.ts";
import { principalsMethods } from "./principals/methods.ts";
import { PRINCIPALS_CAPABILITY } from "./principals/types.ts";
import { blobRoutes } from "./blob_routes.ts";
import { eventSourceRoutes } from "./push/event_source.ts";
import { LiveCredentials } from "./push/live_credentials.ts";
import { PushHub } from "./push/push_hub.ts";
import { pushSubscriptionMethods } from "./push/push_subscription_methods.ts";
import { TICKET_CAPABILITY, ticketRoute } from "./push/ticket_route.ts";
import { TicketBook } from "./push/tickets.ts";
import { WebPushSender } from "./push/web_push.ts";
import { WEBSOCKET_CAPABILITY } from "./push/websocket.ts";
import { methodTable } from "./method_table.ts";
import { jmapRoutes } from "./routes.ts";
import { schemaDocument } from "./schema.ts";
import { standardMethods } from "./standard/methods.ts";
import { CAPABILITY, type CoreCapability } from "./types.ts";

export { JmapEngine } from "./engine.ts";
export { managementEngine } from "./management/methods.ts";
export type { QueueCommands } from "./management/action_type.ts";
export { filterConditions } from "./management/object_types.ts";
export type { MethodContext, MethodDefinition, MethodHandler } from "./engine.ts";
export { type MethodName, METHODS } from "./method_table.ts";
export { MethodError, RequestError } from "./errors.ts";
export { schemaDocument } from "./schema.ts";
export { CAPABILITY } from "./types.ts";
export type { CoreCapability, JmapRequest, JmapResponse, JmapSession } from "./types.ts";

/** Default limits of the core capability. */
export function defaultCore(maxSizeRequest: number): CoreCapability {
  return {
    maxSizeUpload: 50_000_000,
    maxConcurrentUpload: 4,
    maxSizeRequest,
    maxConcurrentRequests: 4,
    maxCallsInRequest: 16,
    maxObjectsInGet: 500,
    maxObjectsInSet: 500,
    collationAlgorithms: ["i;ascii-numeric", "i;ascii-casemap", "i;unicode-casemap"],
  };
}

/** RFC 8621 §1.3.1: the mail capability's limits (per account; top-level creation set per account). */
const MAIL_CAPABILITY = {
  maxMailboxesPerEmail: null,
  maxMailboxDepth: MAILBOX_LIMITS.maxMailboxDepth,
  maxSizeMailboxName: MAILBOX_LIMITS.maxSizeMailboxName,
  maxSizeAttachmentsPerEmail: EMAIL_LIMITS.maxSizeAttachmentsPerEmail,
  // Every sort Email/query supports (RFC 8621 §1.3.1), from the one list Email/query checks sorts against.
  emailQuerySortOptions: [...EMAIL_SORT_PROPERTIES],
};

/** RFC 8621 §1.3.2: the submission capability of a user's own account. */
const SUBMISSION_CAPABILITY = {
  maxDelayedSend: SUBMISSION_LIMITS.maxDelayedSend,
  // RFC 4865: the longest hold in seconds; delayed sending is asked for with HOLDFOR or HOLDUNTIL.
  submissionExtensions: { FUTURERELEASE: [String(SUBMISSION_LIMITS.maxDelayedSend)] },
};

/** Wires the JMAP surface over the services and returns its routes. */
export function createJmap(deps: {
  accounts: AccountService;
  objects: ObjectService;
  changes: ChangeService;
  core: CoreCapability;
  version: string;
  log: Logger;
  /** Publishes a new ID-token signing key, current after a delay (the RotateSigningKey action). */
  rotateSigningKey: () => Promise<string>;
  /** Where mail clients reach this server (the DnsRecords action). */
  mailEndpoints?: MailEndpoints;
  /** The outbound queue's commands (the RetryQueuedMessages and CancelQueuedMessages actions). */
  queue?: QueueCommands;
  mailboxes: MailboxService;
  blobs: BlobService;
  emails: EmailService;
  identities: IdentityService;
  submissions: SubmissionService;
  vacation: VacationService;
  pushSubscriptions: PushSubscriptionService;
  shareNotifications: ShareNotificationService;
  /** The Sharing singleton's principalScope (how far users see principals). */
  principalScope: () => Promise<"domain" | "all">;
  /** Whether web pushes may go to loopback and private addresses. */
  pushPrivateTargets?: boolean;
  /**
   * Of several serving processes, whether this one sends web pushes of changes (one does; see
   * push/web_push.ts), and how often it re-reads the subscriptions others verified. Default: it does.
   */
  webPush?: { sendChanges: boolean; sweepMs?: number };
  /**
   * Authenticates again the Authorization an open connection or a ticket holds (the authenticator,
   * through its caches; a credential that stopped working is a revocation, never throttled as a guess).
   */
  authenticate(authorization: string | null, clientAddress: string): Principal | Promise<Principal>;
  /** Subscribes to applied invalidation events (the directory caches'). */
  onInvalidation(listener: (event: InvalidationEvent) => void): void;
  /** The coherence check that applies other processes' invalidations. */
  sync(): Promise<void> | undefined;
  /** Origins allowed by --cors-origin (who besides the server's own pages may obtain tickets). */
  corsOrigins: readonly string[];
}) {
  const skipped = { count: 0 };
  const limits = {
    maxObjectsInGet: deps.core.maxObjectsInGet,
    maxObjectsInSet: deps.core.maxObjectsInSet,
    maxQueryLimit: 1000,
    maxChanges: 1000,
  };
  const types = [mailboxType({ mailboxes: deps.mailboxes, maxQueryLimit: limits.maxQueryLimit })];
  // A grantee's Mailbox/changes and /queryChanges name only the mailboxes it may see.
  const inView: Record<string, typeof mailboxChangesInView> = {
    "Mailbox/changes": mailboxChangesInView,
    "Mailbox/queryChanges": mailboxQueryChangesInView,
  };
  // Quotas are derived from the account, with states of their own; RFC 9425 has no Quota/set.
  const quotaDeps = { accounts: deps.accounts, mailboxes: deps.mailboxes, blobs: deps.blobs };
  const mail = emailMethods({
    emails: deps.emails,
    blobs: deps.blobs,
    identities: deps.identities,
    submissions: deps.submissions,
    vacation: deps.vacation,
    mailboxes: deps.mailboxes,
    changes: deps.changes,
    limits,
  });
  const sharing = principalsMethods({
    accounts: deps.accounts,
    mailboxes: deps.mailboxes,
    notifications: deps.shareNotifications,
    core: deps.core,
    mail: MAIL_CAPABILITY,
    submission: SUBMISSION_CAPABILITY,
    changes: deps.changes,
    limits,
    principalScope: deps.principalScope,
  });
  const push = new PushHub({ changes: deps.changes, mailboxes: deps.mailboxes, emails: deps.emails });
  const methods = methodTable([
    [["Core/echo", { capability: CAPABILITY.core, handler: (args) => args }]],
    ...types.map((type) =>
      standardMethods(type, { changes: deps.changes, limits }).map((
        [name, definition],
      ): [string, MethodDefinition] => [name, inView[name]?.(definition, deps.mailboxes) ?? definition])
    ),
    standardMethods(quotaType(quotaDeps), { changes: quotaFeed(quotaDeps), limits })
      .filter(([name]) => name !== "Quota/set"),
    mail,
    sharing,
    pushSubscriptionMethods(deps.pushSubscriptions, { privateTargets: deps.pushPrivateTargets ?? false }),
    managementMethods(deps, limits),
  ]);
  const webPush = new WebPushSender({
    hub: push,
    subscriptions: deps.pushSubscriptions,
    log: deps.log,
    privateTargets: deps.pushPrivateTargets ?? false,
    ...deps.webPush,
  });
  // Open WebSockets and event streams, whose credentials are checked while they last.
  const live = new LiveCredentials({
    authenticate: deps.authenticate,
    onInvalidation: deps.onInvalidation,
    sync: deps.sync,
    log: deps.log,
  });
  const tickets = {
    tickets: new TicketBook(),
    authenticate: deps.authenticate,
    corsOrigins: deps.corsOrigins,
  };
  const engine = new JmapEngine(
    methods,
    new Set([
      CAPABILITY.core,
      CAPABILITY.mail,
      QUOTA_CAPABILITY,
      PRINCIPALS_CAPABILITY,
      CAPABILITY.management,
      CAPABILITY.submission,
      CAPABILITY.vacation,
      WEBSOCKET_CAPABILITY,
      TICKET_CAPABILITY,
    ]),
    {
      maxCallsInRequest: deps.core.maxCallsInRequest,
    },
    deps.log,
  );
  return {
    engine,
    routes: [
      ...blobRoutes({ blobs: deps.blobs, core: deps.core }),
      ...eventSourceRoutes({ hub: push, live, tickets }),
      ticketRoute(tickets),
      ...jmapRoutes({
        engine,
        accounts: deps.accounts,
        mailboxes: deps.mailboxes,
        core: deps.core,
        mail: MAIL_CAPABILITY,
        submission: SUBMISSION_CAPABILITY,
        schema: schemaDocument(deps.version),
        log: deps.log,
        skipped,
        push,
        live,
        tickets,
      }),
    ],
    /** Open WebSockets and event streams (stop its timers with the server). */
    live,
    /** Who listens for state changes (event streams, WebSockets, IMAP IDLE) and the change log's cursor. */
    push,
    /** Delivers pushes to push subscriptions (RFC 8620 §7.2): start with the server, stop with it. */
    webPush,
    /** Shared accounts the session skipped because they no longer resolve (a metric). */
    skippedSessionAccounts: () => skipped.count,
  };
}
