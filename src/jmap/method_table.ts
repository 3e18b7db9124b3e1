/**
 * The JMAP method table: every method Postern answers, named once here with the capability a request
 * must declare for it. Handlers come from the data types (src/jmap/standard/data_type.ts) through the
 * standard methods, and from the hand-written methods (Email/get, Thread/get…); `methodTable` checks
 * the two agree when the server starts, so a name registered twice, or missing here, stops the start.
 */
import type { MethodDefinition } from "./engine.ts";
import { PRINCIPALS_CAPABILITY as PRINCIPALS } from "./principals/types.ts";
import { CAPABILITY } from "./types.ts";

const { core, mail, quota, submission, vacation, management } = CAPABILITY;

/** Method name → the capability it needs in `using` (management is always accepted). */
export const METHODS = {
  // RFC 8620 §4, §6.3, §7.2.
  "Core/echo": core,
  "Blob/copy": core,
  "PushSubscription/get": core,
  "PushSubscription/set": core,
  // RFC 8621: mail.
  "Mailbox/get": mail,
  "Mailbox/set": mail,
  "Mailbox/changes": mail,
  "Mailbox/query": mail,
  "Mailbox/queryChanges": mail,
  "Thread/get": mail,
  "Thread/changes": mail,
  "Email/get": mail,
  "Email/set": mail,
  "Email/changes": mail,
  "Email/query": mail,
  "Email/queryChanges": mail,
  "Email/copy": mail,
  "Email/import": mail,
  "Email/parse": mail,
  "SearchSnippet/get": mail,
  "Identity/get": submission,
  "Identity/set": submission,
  "Identity/changes": submission,
  "EmailSubmission/get": submission,
  "EmailSubmission/set": submission,
  "EmailSubmission/changes": submission,
  "EmailSubmission/query": submission,
  "EmailSubmission/queryChanges": submission,
  "VacationResponse/get": vacation,
  "VacationResponse/set": vacation,
  // RFC 9425: quotas (no Quota/set).
  "Quota/get": quota,
  "Quota/changes": quota,
  "Quota/query": quota,
  "Quota/queryChanges": quota,
  // RFC 9670: sharing.
  "Principal/get": PRINCIPALS,
  "Principal/set": PRINCIPALS,
  "Principal/changes": PRINCIPALS,
  "Principal/query": PRINCIPALS,
  "Principal/queryChanges": PRINCIPALS,
  "ShareNotification/get": PRINCIPALS,
  "ShareNotification/set": PRINCIPALS,
  "ShareNotification/changes": PRINCIPALS,
  "ShareNotification/query": PRINCIPALS,
  "ShareNotification/queryChanges": PRINCIPALS,
  // Postern's management types (src/model/objects/) and actions.
  "x:Account/get": management,
  "x:Account/set": management,
  "x:Account/changes": management,
  "x:Account/query": management,
  "x:Account/queryChanges": management,
  "x:Domain/get": management,
  "x:Domain/set": management,
  "x:Domain/changes": management,
  "x:Domain/query": management,
  "x:Domain/queryChanges": management,
  "x:AppPassword/get": management,
  "x:AppPassword/set": management,
  "x:AppPassword/changes": management,
  "x:AppPassword/query": management,
  "x:AppPassword/queryChanges": management,
  "x:ApiKey/get": management,
  "x:ApiKey/set": management,
  "x:ApiKey/changes": management,
  "x:ApiKey/query": management,
  "x:ApiKey/queryChanges": management,
  "x:OAuthClient/get": management,
  "x:OAuthClient/set": management,
  "x:OAuthClient/changes": management,
  "x:OAuthClient/query": management,
  "x:OAuthClient/queryChanges": management,
  "x:OAuthGrant/get": management,
  "x:OAuthGrant/set": management,
  "x:OAuthGrant/changes": management,
  "x:OAuthGrant/query": management,
  "x:OAuthGrant/queryChanges": management,
  "x:MailboxGrant/get": management,
  "x:MailboxGrant/set": management,
  "x:MailboxGrant/changes": management,
  "x:MailboxGrant/query": management,
  "x:MailboxGrant/queryChanges": management,
  "x:DkimKey/get": management,
  "x:DkimKey/set": management,
  "x:DkimKey/changes": management,
  "x:DkimKey/query": management,
  "x:DkimKey/queryChanges": management,
  "x:QueuedMessage/get": management,
  "x:QueuedMessage/set": management,
  "x:QueuedMessage/changes": management,
  "x:QueuedMessage/query": management,
  "x:QueuedMessage/queryChanges": management,
  "x:Action/get": management,
  "x:Action/set": management,
  "x:Action/changes": management,
  "x:Action/query": management,
  "x:Action/queryChanges": management,
  // Singletons: /get and /set only.
  "x:Cache/get": management,
  "x:Cache/set": management,
  "x:Authentication/get": management,
  "x:Authentication/set": management,
  "x:OidcProvider/get": management,
  "x:OidcProvider/set": management,
  "x:Sharing/get": management,
  "x:Sharing/set": management,
  "x:Smarthost/get": management,
  "x:Smarthost/set": management,
  "x:Outbound/get": management,
  "x:Outbound/set": management,
} as const satisfies Record<string, string>;

/** A method Postern answers. */
export type MethodName = keyof typeof METHODS;

/**
 * Builds the table from the registrations of every group, in order. A name registered twice, a name
 * not in METHODS, a capability other than METHODS gives, or a method of METHODS left without a
 * handler throws, naming the method: the server does not start with a table that disagrees.
 */
export function methodTable(
  groups: Iterable<readonly [string, MethodDefinition]>[],
  names: Readonly<Record<string, string>> = METHODS,
): Map<string, MethodDefinition> {
  const table = new Map<string, MethodDefinition>();
  for (const group of groups) {
    for (const [name, definition] of group) {
      if (table.has(name)) throw new Error(`JMAP method "${name}" is registered twice`);
      if (!Object.hasOwn(names, name)) {
        throw new Error(`JMAP method "${name}" is not in the method table (src/jmap/method_table.ts)`);
      }
      if (names[name] !== definition.capability) {
        throw new Error(
          `JMAP method "${name}" is registered under "${definition.capability}", the table says "${
            names[name]
          }"`,
        );
      }
      table.set(name, definition);
    }
  }
  const missing = Object.keys(names).filter((name) => !table.has(name));
  if (missing.length) throw new Error(`JMAP methods without a handler: ${missing.join(", ")}`);
  return table;
}
