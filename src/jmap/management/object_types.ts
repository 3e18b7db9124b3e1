/**
 * The `x:` management types over the directory's object layer: x:Account, x:Domain, x:AppPassword,
 * x:ApiKey, x:OAuthClient, x:OAuthGrant, x:MailboxGrant, x:DkimKey and the singletons x:Cache, x:Authentication and x:OidcProvider.
 */
import type { WireObject } from "../../directory/mod.ts";
import { ForbiddenError, InvalidInputError, NotFoundError } from "../../model/errors.ts";
import { encodeId } from "../../model/ids.ts";
import { OBJECT_SPECS, type ObjectSpec } from "../../model/objects/mod.ts";
import type { Principal } from "../../model/types.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import type { DataType, JmapObject } from "../standard/data_type.ts";
import { CAPABILITY } from "../types.ts";
import { checkManagementAccount } from "./account_scope.ts";
import { accountQuery } from "./account_query.ts";
import { QUEUED_MESSAGE_CONDITIONS, queuedMessageQuery } from "./queued_message_query.ts";
import type { ManagementDeps } from "./deps.ts";

const PATHS: Record<string, string> = {
  Account: "account",
  Domain: "domain",
  AppPassword: "app-password",
  ApiKey: "api-key",
  Cache: "cache",
  Authentication: "authentication",
  OAuthClient: "oauth-client",
  OAuthGrant: "oauth-grant",
  MailboxGrant: "mailbox-grant",
  OidcProvider: "oidc-provider",
  Sharing: "sharing",
  Smarthost: "smarthost",
  Outbound: "outbound",
  DkimKey: "dkim-key",
  QueuedMessage: "queued-message",
};

const text = (o: JmapObject, v: unknown) =>
  typeof v === "string" &&
  [o.name, o.description, o.emailAddress].some((f) =>
    typeof f === "string" && f.toLowerCase().includes(v.toLowerCase())
  );

const equals = (property: string) => (o: JmapObject, v: unknown) => o[property] === v;

/** The condition tables of each type (in-memory evaluation; x:Account also pushes them to SQL). */
const CONDITIONS: Record<string, DataType["conditions"]> = {
  Account: {
    name: equals("name"),
    text,
    "@type": equals("@type"),
    domainId: equals("domainId"),
    enabled: equals("enabled"),
    emailAddress: (o, v) => typeof v === "string" && String(o.emailAddress).toLowerCase() === v.toLowerCase(),
    memberOf: (o, v) => Object.values(o.memberGroupIds as object).includes(v),
  },
  Domain: { name: equals("name"), text },
  AppPassword: { accountId: equals("accountId"), text: (o, v) => text({ description: o.description }, v) },
  ApiKey: { accountId: equals("accountId"), text: (o, v) => text({ description: o.description }, v) },
  OAuthClient: {
    clientId: equals("clientId"),
    name: equals("name"),
    "@type": equals("@type"),
    ownerId: equals("ownerId"),
    text: (o, v) => text({ name: o.name, description: o.description, emailAddress: o.clientId }, v),
  },
  OAuthGrant: {
    accountId: equals("accountId"),
    oauthClientId: equals("oauthClientId"),
    clientId: equals("clientId"),
    grantType: equals("grantType"),
  },
  DkimKey: { domainId: equals("domainId"), selector: equals("selector"), active: equals("active") },
  QueuedMessage: QUEUED_MESSAGE_CONDITIONS,
  MailboxGrant: {
    ownerId: equals("ownerId"),
    granteeId: equals("granteeId"),
    mailboxId: equals("mailboxId"),
  },
};

const SORTABLE: Record<string, readonly string[]> = {
  OAuthGrant: ["id", "createdAt", "expiresAt"],
  MailboxGrant: ["id", "ownerName", "granteeName", "mailboxName"],
  DkimKey: ["id", "domainName", "selector", "createdAt"],
  QueuedMessage: ["id", "createdAt", "size", "state", "sender", "nextAttemptAt"],
  Account: ["id", "name", "emailAddress", "description", "createdAt", "updatedAt"],
  Domain: ["id", "name", "createdAt"],
  AppPassword: ["id", "description", "createdAt", "expiresAt"],
  ApiKey: ["id", "description", "createdAt", "expiresAt"],
  OAuthClient: ["id", "clientId", "name", "createdAt", "updatedAt"],
};

/** Every management data type. */
export function managementTypes(deps: ManagementDeps): DataType[] {
  return Object.values(OBJECT_SPECS).map((spec) => objectType(spec, deps));
}

function objectType(spec: ObjectSpec, deps: ManagementDeps): DataType {
  const path = PATHS[spec.name];
  const caller = (ctx: MethodContext): Principal => ctx.principal;
  const properties = [
    "id",
    ...(spec.variants ? ["@type"] : []),
    ...Object.keys(spec.fields).filter((f) => f !== "id"),
  ];
  const type: DataType = {
    name: `x:${spec.name}`,
    capability: CAPABILITY.management,
    changeType: spec.name,
    singleton: spec.singleton,
    properties,
    idProperties: Object.entries(spec.fields).filter(([, f]) => /\bId\b/.test(f.type)).map(([name]) => name),
    defaults: Object.fromEntries(
      Object.entries(spec.fields)
        .filter(([, f]) => f.default !== undefined && !f.type.endsWith("?"))
        .map(([name, f]) => [name, f.default]),
    ),
    // A non-admin sees changes of their own account and keys only; domains are visible to all. Mailbox
    // grants are the administrators' view: refused like their /get, rather than answering with ids.
    changeOwner: (ctx) => {
      if (ctx.principal.roles.includes("admin") || spec.name === "Domain") return undefined;
      if (spec.name === "MailboxGrant") {
        throw new MethodError(
          "forbidden",
          "Mailbox grants are managed by administrators; share your own mailboxes with Mailbox/set shareWith",
        );
      }
      if (spec.name === "DkimKey") {
        throw new MethodError("forbidden", "DKIM keys are managed by administrators");
      }
      if (spec.name === "QueuedMessage") {
        throw new MethodError("forbidden", "The outbound queue is managed by administrators");
      }
      return ctx.principal.accountId;
    },
    wireId: (id) => spec.singleton ? "singleton" : encodeId(id),
    checkAccount: (ctx, accountId) => checkManagementAccount(deps.accounts, ctx, accountId),
    conditions: CONDITIONS[spec.name] ?? {},
    sortable: SORTABLE[spec.name] ?? [],
    async get(ctx, ids) {
      if (ids === null) return { list: await deps.objects.list(path, caller(ctx)), notFound: [] };
      const list: WireObject[] = [];
      const notFound: string[] = [];
      for (const id of ids) {
        try {
          list.push(await deps.objects.get(path, id, caller(ctx)));
        } catch (error) {
          if (error instanceof NotFoundError || error instanceof InvalidInputError) {
            notFound.push(id);
          } else if (error instanceof ForbiddenError) throw new MethodError("forbidden", error.message);
          else throw error;
        }
      }
      return { list, notFound };
    },
    update: (ctx, id, changes) => updateObject(deps, path, spec, ctx, id, changes),
  };
  if (!spec.singleton) {
    type.create = async (ctx, object) => {
      const created = await deps.objects.create(path, object, caller(ctx));
      return created;
    };
    type.destroy = async (ctx, id) => {
      await deps.objects.delete(path, id, caller(ctx));
    };
  }
  if (spec.name === "Account") type.query = (ctx, window) => accountQuery(deps, ctx, window);
  if (spec.name === "QueuedMessage") {
    type.query = (ctx, window) =>
      queuedMessageQuery(window, {
        type,
        maxLimit: deps.maxQueryLimit,
        list: (narrow) => deps.objects.list(path, caller(ctx), narrow),
      });
    // The queue changes with every delivery attempt: it keeps no change log, so /changes and
    // /queryChanges say so (RFC 8620 §5.2 cannotCalculateChanges) and a client queries again.
    const owner = type.changeOwner!;
    type.changeOwner = (ctx) => {
      owner(ctx);
      throw new MethodError(
        "cannotCalculateChanges",
        "The outbound queue keeps no change log; query it again",
      );
    };
  }
  return type;
}

async function updateObject(
  deps: ManagementDeps,
  path: string,
  spec: ObjectSpec,
  ctx: MethodContext,
  id: string,
  changes: JmapObject,
): Promise<JmapObject | null> {
  if (spec.singleton && id !== "singleton") throw new NotFoundError(spec.name, id);
  const before = await deps.objects.get(path, id, ctx.principal);
  const after = await deps.objects.update(path, id, changes, ctx.principal);
  // RFC 8620 §5.3: return the properties the server changed beyond what the client asked for.
  const serverChanged = Object.fromEntries(
    Object.entries(after).filter(([key, value]) =>
      !Object.hasOwn(changes, key) && JSON.stringify(value) !== JSON.stringify(before[key])
    ),
  );
  return Object.keys(serverChanged).length ? serverChanged : null;
}

/** The filter conditions x:TYPE/query accepts (none for singletons and types without a query filter). */
export function filterConditions(typeName: string): string[] {
  return Object.keys(CONDITIONS[typeName] ?? {});
}
