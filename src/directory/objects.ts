/**
 * The management object layer shared by the CLI, the HTTP API and (later) JMAP: wire objects in,
 * validated by their declaration, checked against the caller's rights, carried out by the services,
 * wire objects out (lists keyed by index, secrets masked).
 */
import type { AccessKeyService, AccessKeyType } from "./access_keys.ts";
import type { AccountService } from "./accounts.ts";
import type { DomainService } from "./domains.ts";
import type { SettingsMap, SettingsService } from "./settings.ts";
import {
  type Caller,
  callerAccount,
  isAdmin,
  isSelfOrAdmin,
  requireAdmin,
  requireSelfOrAdmin,
} from "./callers.ts";
import {
  decodeId,
  domainNameSchema,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  OBJECT_SPECS,
  type ObjectSpec,
  validateObject,
} from "./deps.ts";

import {
  accessKeyToWire,
  accountInput,
  accountToWire,
  domainToWire,
  masked,
  requireId,
  type WireObject,
} from "./wire.ts";
import { withoutUnchanged } from "../model/unchanged.ts";
import {
  type DnsRecord,
  dnsRecords,
  type MailEndpoints,
  type PublishedDkimKey,
} from "../model/dns_records.ts";

export { accessKeyToWire, accountToWire, domainToWire };
export type { WireObject };
export { type Caller, isAdmin };

/** CLI and URL names of object types, e.g. `account/user` → Account variant User. */
export function resolveObjectType(path: string): { spec: ObjectSpec; variant?: string } {
  const [head, variant] = path.toLowerCase().split("/", 2);
  const names: Record<string, string> = {
    account: "Account",
    domain: "Domain",
    "app-password": "AppPassword",
    apppassword: "AppPassword",
    "api-key": "ApiKey",
    apikey: "ApiKey",
    cache: "Cache",
    authentication: "Authentication",
    "oauth-client": "OAuthClient",
    oauthclient: "OAuthClient",
    "oauth-grant": "OAuthGrant",
    oauthgrant: "OAuthGrant",
    "mailbox-grant": "MailboxGrant",
    mailboxgrant: "MailboxGrant",
    "oidc-provider": "OidcProvider",
    oidcprovider: "OidcProvider",
    sharing: "Sharing",
    smarthost: "Smarthost",
    outbound: "Outbound",
    "dkim-key": "DkimKey",
    dkimkey: "DkimKey",
    "queued-message": "QueuedMessage",
    queuedmessage: "QueuedMessage",
  };
  // Own properties only: a type named "constructor" is unknown, not Object.
  const name = Object.hasOwn(names, head) ? names[head] : undefined;
  const spec = name ? OBJECT_SPECS[name] : undefined;
  if (!spec) {
    throw new InvalidInputError(
      `Unknown object type "${path}"; known: account/user, account/group, domain, app-password, api-key, oauth-client/confidential, oauth-client/public, oauth-grant, mailbox-grant, cache, authentication, oidc-provider, sharing, smarthost, outbound, dkim-key, queued-message`,
    );
  }
  if (variant === undefined) return { spec };
  const match = spec.variants?.find((v) => v.toLowerCase() === variant);
  if (!match) throw new InvalidInputError(`Unknown variant "${variant}" of ${spec.name}`);
  return { spec, variant: match };
}

/**
 * A management type whose service lives outside the directory (OAuthClient in oauth/). The object
 * layer validates input against the declaration first; a handler receives checked values.
 */
export interface ObjectHandler {
  create(value: WireObject, variant: string | undefined, caller: Caller): Promise<WireObject>;
  get(id: number, wireId: string, caller: Caller): Promise<WireObject>;
  /**
   * Every object the caller may see; `narrow` (property → value, e.g. a queued message's state)
   * lets the handler leave out, in its store, objects the query's filter would drop anyway.
   */
  list(caller: Caller, narrow?: Record<string, string>): Promise<WireObject[]>;
  update(id: number, value: WireObject, caller: Caller): Promise<WireObject>;
  delete(id: number, wireId: string, caller: Caller): Promise<WireObject>;
}

/** The DKIM keys of the domains, kept by the mail layer (src/mail/dkim_keys.ts). */
export interface DomainKeys {
  /** The keys a domain publishes, active and retired. */
  published(domainId: number): Promise<PublishedDkimKey[]>;
  /** Retires the active keys and makes new ones; the new selectors. */
  rotate(domainId: number): Promise<string[]>;
}

/** Carries out management operations on wire objects. */
export class ObjectService {
  readonly #handlers = new Map<string, ObjectHandler>();
  #keys?: DomainKeys;

  /** Adds the DKIM keys to the DNS records and the rotation action. */
  useDomainKeys(keys: DomainKeys): void {
    this.#keys = keys;
  }

  /** Adds the handler of a type declared in the model but served by another service. */
  register(typeName: string, handler: ObjectHandler): void {
    this.#handlers.set(typeName, handler);
  }

  #handler(spec: ObjectSpec): ObjectHandler | undefined {
    return this.#handlers.get(spec.name);
  }

  constructor(
    private readonly services: {
      accounts: AccountService;
      domains: DomainService;
      accessKeys: AccessKeyService;
      settings: SettingsService;
    },
  ) {}

  /** Creates an object; the result includes server-set fields and, for keys, the secret (once). */
  async create(typePath: string, input: unknown, caller: Caller): Promise<WireObject> {
    const { spec, variant } = resolveObjectType(typePath);
    const wireType = (input as WireObject | null)?.["@type"];
    const chosen = variant ?? (typeof wireType === "string" ? wireType : spec.variants?.[0]);
    if (spec.variants && !spec.variants.includes(chosen!)) {
      throw new InvalidInputError(`Unknown @type "${chosen}" for ${spec.name}`, [
        { property: "@type", message: `must be one of ${spec.variants.join(", ")}` },
      ]);
    }
    if (spec.singleton) {
      throw new ForbiddenError(`${spec.name} is a singleton: update it instead of creating it`);
    }
    if (spec.readOnly) {
      throw new ForbiddenError(`${spec.name} objects are made by the server; read or destroy them`);
    }
    const value = checked(spec, input, "create", chosen);
    const handler = this.#handler(spec);
    if (handler) return await handler.create(value, chosen, caller);
    switch (spec.name) {
      case "Account": {
        requireAdmin(caller, "create accounts");
        return accountToWire(
          await this.services.accounts.create(accountInput(value, chosen as "User" | "Group")),
        );
      }
      case "Domain": {
        requireAdmin(caller, "create domains");
        return domainToWire(
          await this.services.domains.create(value as Parameters<DomainService["create"]>[0]),
        );
      }
      default: {
        const type = spec.name as AccessKeyType;
        const accountId = value.accountId
          ? requireId(String(value.accountId), "accountId")
          : callerAccount(caller);
        requireSelfOrAdmin(caller, accountId, `create an ${spec.name} for another account`);
        const created = await this.services.accessKeys.create(type, accountId, {
          description: String(value.description),
          expiresAt: value.expiresAt ? Date.parse(String(value.expiresAt)) : null,
        });
        return { ...accessKeyToWire(created.credential), secret: created.secret };
      }
    }
  }

  /** Reads one object. */
  async get(typePath: string, wireId: string, caller: Caller): Promise<WireObject> {
    const { spec } = resolveObjectType(typePath);
    if (spec.singleton) {
      if (wireId !== "singleton") throw new NotFoundError(spec.name, wireId);
      requireAdmin(caller, `read ${spec.name}`);
      const value = await this.services.settings.get(spec.name as keyof SettingsMap);
      return { id: "singleton", ...masked(spec, value as unknown as WireObject) };
    }
    const id = objectId(spec, wireId);
    const handler = this.#handler(spec);
    if (handler) return await handler.get(id, wireId, caller);
    switch (spec.name) {
      case "Account": {
        requireSelfOrAdmin(caller, id, "read another account");
        return accountToWire(await this.services.accounts.require(id, wireId));
      }
      case "Domain": {
        const domain = await this.services.domains.get(id);
        if (!domain) throw new NotFoundError("Domain", wireId);
        return domainToWire(domain);
      }
      default: {
        const credential = await this.services.accessKeys.get(spec.name as AccessKeyType, id);
        if (!credential || !isSelfOrAdmin(caller, credential.accountId)) {
          throw new NotFoundError(spec.name, wireId);
        }
        return accessKeyToWire(credential);
      }
    }
  }

  /**
   * Lists every object of a type the caller may see. Filters are the JMAP /query's
   * (src/jmap/management/object_types.ts), which the CLI runs in local mode too: one filter for both.
   */
  async list(typePath: string, caller: Caller, narrow?: Record<string, string>): Promise<WireObject[]> {
    const { spec, variant } = resolveObjectType(typePath);
    if (spec.singleton) return [await this.get(typePath, "singleton", caller)];
    let objects: WireObject[];
    const handler = this.#handler(spec);
    switch (handler ? "" : spec.name) {
      case "": {
        objects = await handler!.list(caller, narrow);
        if (variant) objects = objects.filter((o) => o["@type"] === variant);
        break;
      }
      case "Account": {
        if (caller !== "system" && !caller.roles.includes("admin")) {
          objects = [accountToWire(await this.services.accounts.require(caller.accountId))];
          break;
        }
        const ids = await this.services.accounts.query({ type: variant as "User" | "Group" | undefined });
        objects = [];
        for (const id of ids) {
          const account = await this.services.accounts.get(id);
          if (account) objects.push(accountToWire(account));
        }
        break;
      }
      case "Domain":
        objects = (await this.services.domains.list()).map(domainToWire);
        break;
      default: {
        const type = spec.name as AccessKeyType;
        const list = caller === "system" || caller.roles.includes("admin")
          ? await this.services.accessKeys.listAll(type)
          : await this.services.accessKeys.list(type, caller.accountId);
        objects = list.map(accessKeyToWire);
      }
    }
    return objects;
  }

  /** Updates the given properties of an object. */
  async update(typePath: string, wireId: string, patch: unknown, caller: Caller): Promise<WireObject> {
    const { spec } = resolveObjectType(typePath);
    if (spec.singleton) {
      if (wireId !== "singleton") throw new NotFoundError(spec.name, wireId);
      requireAdmin(caller, `change ${spec.name}`);
      const name = spec.name as keyof SettingsMap;
      const current = masked(spec, await this.services.settings.get(name) as unknown as WireObject);
      const value = await this.services.settings.update(name, withoutUnchanged(patch, current));
      return { id: "singleton", ...masked(spec, value as unknown as WireObject) };
    }
    const id = objectId(spec, wireId);
    const handler = this.#handler(spec);
    if (handler && spec.readOnly) {
      await handler.get(id, wireId, caller);
      throw new ForbiddenError(`${spec.name} objects cannot be changed; destroy one to revoke it`);
    }
    if (handler) {
      const current = await handler.get(id, wireId, caller);
      const variant = typeof current["@type"] === "string" ? current["@type"] : undefined;
      return await handler.update(
        id,
        checked(spec, withoutUnchanged(patch, current), "update", variant),
        caller,
      );
    }
    switch (spec.name) {
      case "Account": {
        const account = await this.services.accounts.require(id, wireId);
        const value = checked(spec, withoutUnchanged(patch, accountToWire(account)), "update", account.type);
        if (caller !== "system" && !caller.roles.includes("admin")) {
          const allowed = ["credentials", "description", "locale", "forwardTo", "forwardKeepCopy"];
          const other = Object.keys(value).find((k) => !allowed.includes(k));
          if (caller.accountId !== id || other) {
            throw new ForbiddenError(
              caller.accountId !== id
                ? "Only an administrator can change another account"
                : `Only an administrator can change "${other}"`,
            );
          }
        }
        const input = accountInput(value, account.type);
        return accountToWire(await this.services.accounts.update(id, input));
      }
      case "Domain": {
        requireAdmin(caller, "change domains");
        const domain = await this.services.domains.get(id);
        if (!domain) throw new NotFoundError("Domain", wireId);
        const value = checked(spec, withoutUnchanged(patch, domainToWire(domain)), "update");
        return domainToWire(
          await this.services.domains.update(id, value as Parameters<DomainService["update"]>[1]),
        );
      }
      default:
        throw new ForbiddenError(`${spec.name} cannot be changed: delete it and create a new one`);
    }
  }

  /** The DNS records of one of this server's domains (an administrator's report). */
  async dnsRecords(
    name: unknown,
    endpoints: MailEndpoints,
  ): Promise<{ domain: string; records: DnsRecord[] }> {
    const domain = await this.#domainNamed(name);
    const keys = await this.#keys?.published(domain.id) ?? [];
    return { domain: domain.name, records: dnsRecords(domain.name, endpoints, keys, domain.mtaStsMode) };
  }

  /** Rotates the DKIM keys of one of this server's domains (administrators only); the new selectors. */
  async rotateDkimKeys(name: unknown, caller: Caller): Promise<{ domain: string; selectors: string[] }> {
    requireAdmin(caller, "rotate DKIM keys");
    const domain = await this.#domainNamed(name);
    if (!this.#keys) throw new ForbiddenError("DKIM keys are kept by the server's mail services");
    return { domain: domain.name, selectors: await this.#keys.rotate(domain.id) };
  }

  async #domainNamed(name: unknown) {
    const parsed = domainNameSchema.safeParse(name);
    if (!parsed.success) {
      const message = parsed.error.issues[0]?.message ?? "must be a domain name";
      throw new InvalidInputError(`Invalid domain ${JSON.stringify(name ?? null)}: ${message}`, [
        { property: "domain", message },
      ]);
    }
    const domain = await this.services.domains.getByName(parsed.data);
    if (!domain) throw new NotFoundError("Domain", parsed.data);
    return domain;
  }

  /** Deletes an object; for accounts, reports what the cascade removed. */
  async delete(typePath: string, wireId: string, caller: Caller): Promise<WireObject> {
    const { spec } = resolveObjectType(typePath);
    if (spec.singleton) throw new ForbiddenError(`${spec.name} is a singleton and cannot be deleted`);
    const id = objectId(spec, wireId);
    const handler = this.#handler(spec);
    if (handler) return await handler.delete(id, wireId, caller);
    switch (spec.name) {
      case "Account": {
        requireAdmin(caller, "delete accounts");
        const { account, removed } = await this.services.accounts.delete(id);
        return { ...accountToWire(account), removed };
      }
      case "Domain":
        requireAdmin(caller, "delete domains");
        return domainToWire(await this.services.domains.delete(id));
      default: {
        const type = spec.name as AccessKeyType;
        const credential = await this.services.accessKeys.get(type, id);
        if (!credential || !isSelfOrAdmin(caller, credential.accountId)) {
          throw new NotFoundError(spec.name, wireId);
        }
        return accessKeyToWire(await this.services.accessKeys.delete(type, id));
      }
    }
  }
}

/** The numeric id of an object; a malformed id names no object, so it is not found. */
function objectId(spec: ObjectSpec, wireId: string): number {
  const id = decodeId(wireId);
  if (id === undefined) throw new NotFoundError(spec.name, wireId);
  return id;
}

function checked(spec: ObjectSpec, input: unknown, mode: "create" | "update", variant?: string) {
  const result = validateObject(spec, input, { mode, variant });
  if (!result.ok) {
    const names = result.problems.map((p) => p.property || "(object)").join(", ");
    const first = result.problems[0].message;
    throw new InvalidInputError(`Invalid ${spec.name} (${names}): ${first}`, result.problems);
  }
  return result.value;
}
