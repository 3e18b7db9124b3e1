/**
 * The method table entries of emails and threads (RFC 8621 §3, §4): Email/get, /set, /query,
 * /queryChanges, /changes and /import; Thread/get and Thread/changes.
 */
import type {
  BlobService,
  EmailFilter,
  EmailService,
  IdentityService,
  MailboxService,
  SubmissionService,
  VacationService,
} from "../../mail/mod.ts";
import { decodeId, encodeId } from "../../model/ids.ts";
import type { MethodContext, MethodDefinition } from "../engine.ts";
import { MethodError } from "../errors.ts";
import { Args } from "../standard/args.ts";
import type { DataType } from "../standard/data_type.ts";
import { type StandardLimits, standardMethods } from "../standard/methods.ts";
import type { ChangeFeed } from "../standard/state.ts";
import { CAPABILITY } from "../types.ts";
import { emailGet } from "./email_get.ts";
import { blobCopy, emailCopy } from "./email_copy.ts";
import { emailImport } from "./email_import.ts";
import { identityType } from "./identity_type.ts";
import { readOnSuccess, submissionType } from "./submission_type.ts";
import { vacationType } from "./vacation_type.ts";
import { emailParse } from "./email_parse.ts";
import { emailType, readFilter } from "./email_type.ts";
import { checkFilter } from "../standard/query_window.ts";

/** What the email methods use. */
export interface EmailMethodsDeps {
  emails: EmailService;
  blobs: BlobService;
  identities: IdentityService;
  submissions: SubmissionService;
  vacation: VacationService;
  mailboxes: MailboxService;
  changes: ChangeFeed;
  limits: StandardLimits;
}

/** The mail accountId check of every mail method: the caller's own account or one shared with it. */
export function mailAccountCheck(mailboxes: MailboxService) {
  return async (ctx: MethodContext, accountId: unknown): Promise<string> => {
    if (typeof accountId !== "string") {
      throw new MethodError("invalidArguments", '"accountId" must be a string');
    }
    const id = decodeId(accountId);
    if (id === undefined || !(await mailboxes.canAccess(ctx.principal.accountId, id))) {
      throw new MethodError("accountNotFound", `No mail account "${accountId}" is available to you`);
    }
    return accountId;
  };
}

/** A per-account mail type that only reports its changes (its other methods are its own). */
function changesOnly(name: string, checkAccount: DataType["checkAccount"]): DataType {
  return {
    name,
    capability: CAPABILITY.mail,
    changeType: name,
    perAccount: true,
    wireId: encodeId,
    properties: ["id"],
    idProperties: [],
    defaults: {},
    checkAccount,
    get: () => Promise.resolve({ list: [], notFound: [] }),
    conditions: {},
    sortable: [],
  };
}

/** Email and Thread methods. */
export function emailMethods(deps: EmailMethodsDeps): [string, MethodDefinition][] {
  const checkAccount = mailAccountCheck(deps.mailboxes);
  const feed = { changes: deps.changes, limits: deps.limits };
  const changes = (name: string) =>
    standardMethods(changesOnly(name, checkAccount), feed).filter(([method]) => method === `${name}/changes`);
  const state = (type: string) => (accountId: number) => deps.changes.state(type, accountId);
  const mail = (handler: MethodDefinition["handler"]): MethodDefinition => ({
    capability: CAPABILITY.mail,
    handler,
  });
  const standard = standardMethods(
    emailType({ emails: deps.emails, maxQueryLimit: deps.limits.maxQueryLimit, checkAccount }),
    feed,
  ).filter(([method]) => method !== "Email/get").map(([name, definition]): [string, MethodDefinition] =>
    name === "Email/changes"
      ? [name, withinReach(definition, (ctx, ids) => visibleEmails(deps, ctx, ids))]
      : [
        name,
        definition,
      ]
  );
  const emailSet = standard.find(([name]) => name === "Email/set")![1].handler;
  const copyDeps = {
    emails: deps.emails,
    blobs: deps.blobs,
    maxObjectsInSet: deps.limits.maxObjectsInSet,
    checkAccount,
    state: state("Email"),
    emailSet: async (args: Record<string, unknown>, ctx: MethodContext) => await emailSet(args, ctx),
  };
  return [
    [
      "Email/get",
      mail((args, ctx) =>
        emailGet(args, ctx, {
          emails: deps.emails,
          maxObjectsInGet: deps.limits.maxObjectsInGet,
          state: state("Email"),
          checkAccount,
        })
      ),
    ],
    [
      "Email/import",
      mail((args, ctx) =>
        emailImport(args, ctx, {
          emails: deps.emails,
          maxObjectsInSet: deps.limits.maxObjectsInSet,
          state: state("Email"),
          checkAccount,
        })
      ),
    ],
    [
      "Email/parse",
      mail((args, ctx) =>
        emailParse(args, ctx, {
          blobs: deps.blobs,
          maxObjectsInGet: deps.limits.maxObjectsInGet,
          checkAccount,
        })
      ),
    ],
    // Email/set, /query, /queryChanges and /changes are the standard methods over the Email type.
    ...standard,
    [
      "Email/copy",
      mail((args, ctx) => emailCopy(args, ctx, copyDeps)),
    ],
    ["Blob/copy", { capability: CAPABILITY.core, handler: (args, ctx) => blobCopy(args, ctx, copyDeps) }],
    ...standardMethods(identityType({ identities: deps.identities, checkAccount }), feed)
      .filter(([name]) => !name.endsWith("/query") && !name.endsWith("/queryChanges")),
    ...standardMethods(
      submissionType({
        submissions: deps.submissions,
        maxQueryLimit: deps.limits.maxQueryLimit,
        checkAccount,
      }),
      feed,
    ).map(([name, definition]): [string, MethodDefinition] =>
      name === "EmailSubmission/set" ? [name, withOnSuccess(definition, deps, emailSet)] : [name, definition]
    ),
    ...standardMethods(vacationType({ vacation: deps.vacation, checkAccount }), feed),
    ["Thread/get", mail((args, ctx) => threadGet(args, ctx, deps, checkAccount))],
    ["SearchSnippet/get", mail((args, ctx) => searchSnippetGet(args, ctx, deps, checkAccount))],
    ...changes("Thread").map(([name, definition]): [string, MethodDefinition] => [
      name,
      withinReach(definition, (ctx, ids) => visibleThreads(deps, ctx, ids)),
    ]),
  ];
}

/**
 * A sharer's /changes names only what it can read: an id it cannot read now is left out when it was
 * created (it never saw it) and reported destroyed when it was updated (it may have left its view,
 * and clients drop ids they do not hold, RFC 8620 §5.2). The owner's changes pass unchanged.
 */
function withinReach(
  definition: MethodDefinition,
  readable: (ctx: MethodContext, ids: string[]) => Promise<Set<string>>,
): MethodDefinition {
  return {
    ...definition,
    handler: async (args, ctx) => {
      const result = await definition.handler(args, ctx);
      if (decodeId(ctx.accountId ?? "") === ctx.principal.accountId) return result;
      const created = result.created as string[];
      const updated = result.updated as string[];
      const visible = await readable(ctx, [...created, ...updated]);
      return {
        ...result,
        created: created.filter((id) => visible.has(id)),
        updated: updated.filter((id) => visible.has(id)),
        destroyed: [...(result.destroyed as string[]), ...updated.filter((id) => !visible.has(id))],
      };
    },
  };
}

async function visibleEmails(
  deps: EmailMethodsDeps,
  ctx: MethodContext,
  ids: string[],
): Promise<Set<string>> {
  const numeric = ids.map((id) => decodeId(id)).filter((id): id is number => id !== undefined);
  const emails = await deps.emails.get(ctx.principal.accountId, decodeId(ctx.accountId!)!, numeric);
  return new Set(emails.map((e) => encodeId(e.id)));
}

async function visibleThreads(
  deps: EmailMethodsDeps,
  ctx: MethodContext,
  ids: string[],
): Promise<Set<string>> {
  const numeric = ids.map((id) => decodeId(id)).filter((id): id is number => id !== undefined);
  const threads = await deps.emails.threads(ctx.principal.accountId, decodeId(ctx.accountId!)!, numeric);
  return new Set([...threads.keys()].map(encodeId));
}

/** Thread/get (RFC 8621 §3.1): each thread's email ids the caller may read, oldest first. */
async function threadGet(
  raw: Record<string, unknown>,
  ctx: MethodContext,
  deps: EmailMethodsDeps,
  checkAccount: DataType["checkAccount"],
): Promise<Record<string, unknown>> {
  const args = new Args(raw, ["accountId", "ids", "properties"], "Thread/get");
  const accountId = await checkAccount(ctx, args.raw("accountId"));
  ctx.accountId = accountId;
  const ids = args.stringList("ids");
  if (ids === null) {
    throw new MethodError("requestTooLarge", "Thread/get needs ids: read them from Email/get");
  }
  if (ids.length > deps.limits.maxObjectsInGet) {
    throw new MethodError("requestTooLarge", `At most ${deps.limits.maxObjectsInGet} ids per Thread/get`);
  }
  const properties = args.stringList("properties") ?? ["id", "emailIds"];
  const unknown = properties.find((p) => p !== "id" && p !== "emailIds");
  if (unknown) throw new MethodError("invalidArguments", `Thread has no property "${unknown}"`);
  const account = decodeId(accountId)!;
  const unique = [...new Set(ids)];
  const numeric = unique.map(decodeId).filter((id): id is number => id !== undefined);
  const threads = await deps.emails.threads(ctx.principal.accountId, account, numeric);
  const list = unique.flatMap((id) => {
    const emails = threads.get(decodeId(id) ?? -1);
    if (!emails) return [];
    return [{ id, ...(properties.includes("emailIds") ? { emailIds: emails.map(encodeId) } : {}) }];
  });
  return {
    accountId,
    state: await deps.changes.state("Thread", account),
    list,
    notFound: unique.filter((id) => !threads.has(decodeId(id) ?? -1)),
  };
}

/** SearchSnippet/get (RFC 8621 §5): where the words of a filter's text, subject and body conditions appear. */
async function searchSnippetGet(
  raw: Record<string, unknown>,
  ctx: MethodContext,
  deps: EmailMethodsDeps,
  checkAccount: DataType["checkAccount"],
): Promise<Record<string, unknown>> {
  const args = new Args(raw, ["accountId", "filter", "emailIds"], "SearchSnippet/get");
  const accountId = await checkAccount(ctx, args.raw("accountId"));
  ctx.accountId = accountId;
  const emailIds = args.stringList("emailIds");
  if (emailIds === null) throw new MethodError("invalidArguments", '"emailIds" is required');
  if (emailIds.length > deps.limits.maxObjectsInGet) {
    throw new MethodError(
      "requestTooLarge",
      `At most ${deps.limits.maxObjectsInGet} emailIds (maxObjectsInGet)`,
    );
  }
  const type = emailType({ emails: deps.emails, maxQueryLimit: deps.limits.maxQueryLimit, checkAccount });
  const filter = checkFilter(type, args.raw("filter"));
  const words = filter ? snippetWords(readFilter(filter)) : [];
  const unique = [...new Set(emailIds)];
  const numeric = unique.map((id) => decodeId(id)).filter((id): id is number => id !== undefined);
  const found = await deps.emails.snippets(
    ctx.principal.accountId,
    decodeId(accountId)!,
    numeric,
    words,
  );
  const notFound = unique.filter((id) => !found.has(decodeId(id) ?? -1));
  return {
    accountId,
    list: unique.flatMap((id) => {
      const snippet = found.get(decodeId(id) ?? -1);
      return snippet ? [{ emailId: id, subject: snippet.subject, preview: snippet.preview }] : [];
    }),
    // RFC 8621 §5.1: notFound is "An array of Email ids requested that could not be found, or null
    // if all ids were found" (null, not an empty list).
    notFound: notFound.length ? notFound : null,
  };
}

/** The search words of a filter's text, subject and body conditions, one list each (none under NOT). */
function snippetWords(filter: EmailFilter): string[][] {
  if ("condition" in filter) {
    const { text, subject, body } = filter.condition;
    return [text, subject, body].filter((w): w is string[] => w !== undefined);
  }
  return filter.operator === "NOT" ? [] : filter.conditions.flatMap(snippetWords);
}

/**
 * EmailSubmission/set with RFC 8621 §7.5's onSuccessUpdateEmail and onSuccessDestroyEmail: once
 * the submissions are written, an implicit Email/set updates or destroys their emails (keys are
 * submission ids, or "#" and a creation id of this call) and its response follows this one.
 */
function withOnSuccess(
  definition: MethodDefinition,
  deps: EmailMethodsDeps,
  emailSet: MethodDefinition["handler"],
): MethodDefinition {
  return {
    ...definition,
    handler: async (raw, ctx) => {
      const { onSuccessUpdateEmail: _u, onSuccessDestroyEmail: _d, ...rest } = raw;
      const onSuccess = readOnSuccess(raw);
      const result = await definition.handler(rest, ctx);
      if (!onSuccess.update && !onSuccess.destroy) return result;
      const created = (result.created ?? {}) as Record<string, { id: string }>;
      const succeeded = new Set([
        ...Object.values(created).map((c) => c.id),
        ...Object.keys((result.updated ?? {}) as object),
      ]);
      const submissions = await deps.submissions.list(
        ctx.principal.accountId,
        decodeId(String(result.accountId))!,
      );
      const emailOf = (key: string): string | undefined => {
        const id = key.startsWith("#") ? created[key.slice(1)]?.id : key;
        if (!id || !succeeded.has(id)) return undefined;
        const submission = submissions.find((s) => encodeId(s.id) === id);
        return submission && encodeId(submission.emailId);
      };
      const update = Object.fromEntries(
        Object.entries(onSuccess.update ?? {}).flatMap(([key, patch]) => {
          const email = emailOf(key);
          return email ? [[email, patch]] : [];
        }),
      );
      const destroy = (onSuccess.destroy ?? []).map(emailOf).filter((e): e is string => e !== undefined);
      if (Object.keys(update).length || destroy.length) {
        ctx.emit(
          "Email/set",
          await emailSet({
            accountId: result.accountId,
            ...(Object.keys(update).length ? { update } : {}),
            ...(destroy.length ? { destroy } : {}),
          }, ctx),
        );
      }
      return result;
    },
  };
}
