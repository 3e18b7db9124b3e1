import type { DirectoryCaches } from "../cache/mod.ts";
import { membershipSightChanges, SHARER_GONE } from "./mailbox_sight.ts";
import { createDefaultMailboxes } from "./default_mailboxes.ts";
import {
  checkGroups,
  ensureAddressFree,
  requireDomain,
  resolveAliases,
  storedPassword,
} from "./account_checks.ts";
import { forwardTargets } from "./forward_targets.ts";
import { sendAsGroups } from "./send_as.ts";
import {
  type Account,
  type AccountSearch,
  type AccountSearchResult,
  type Change,
  ConflictError,
  encodeId,
  type InvalidationEvent,
  InvalidInputError,
  NotFoundError,
  type Store,
} from "./deps.ts";
import type { AccountFilter } from "../store/mod.ts";
import {
  type AccountInput,
  type AccountServiceOptions,
  changed,
  type PasswordHashing,
  type WriteOutcome,
} from "./account_types.ts";

export { changed } from "./account_types.ts";
export type { AccountInput, AccountServiceOptions, PasswordHashing, WriteOutcome } from "./account_types.ts";

/**
 * Accounts, their addresses, groups and passwords. Every write appends its invalidation events in
 * the same transaction and applies them to this process's caches before returning.
 */
export class AccountService {
  constructor(
    private readonly store: Store,
    private readonly caches: DirectoryCaches,
    private readonly deps: { hasher: PasswordHashing; options: AccountServiceOptions },
  ) {}

  /**
   * An account by id (cached), or undefined. The answer is cached only if no invalidation of it was
   * applied while it was read (src/cache/bounded_cache.ts, fills).
   */
  async get(id: number): Promise<Account | undefined> {
    const cache = this.caches.accountById;
    const cached = cache.get(id);
    if (cached.status === "hit") return cached.value;
    if (cached.status === "negative") return undefined;
    const since = cache.epoch();
    const account = await this.store.accounts.get(id);
    if (account) cache.set(id, account, since);
    else cache.setNegative(id, since);
    return account;
  }

  /** The account from the cache alone, without a promise: the hot path's shortcut. */
  peek(id: number): Account | undefined {
    const cached = this.caches.accountById.get(id);
    return cached.status === "hit" ? cached.value : undefined;
  }

  /** An account by id, or a NotFoundError naming it. */
  async require(id: number, wireId = encodeId(id)): Promise<Account> {
    const account = await this.get(id);
    if (!account) throw new NotFoundError("Account", wireId);
    return account;
  }

  /**
   * Resolves a login (an address, or a bare name that is unique across domains) to an account id.
   * Both answers are cached; a write that adds or changes a name or address drops them.
   */
  async idByLogin(login: string): Promise<number | undefined> {
    const key = normalizeLogin(login);
    const cache = this.caches.accountByLogin;
    const cached = cache.get(key);
    if (cached.status === "hit") return cached.value;
    if (cached.status === "negative") return undefined;
    // A login created while this one is read must not be remembered as unknown (nor a renamed one).
    const since = cache.epoch();
    let id: number | undefined;
    const at = key.lastIndexOf("@");
    if (at > 0) id = await this.store.accounts.idByAddress(key.slice(0, at), key.slice(at + 1));
    else {
      const ids = await this.store.accounts.idsByName(key);
      id = ids.length === 1 ? ids[0] : undefined;
    }
    if (id === undefined) cache.setNegative(key, since);
    else cache.set(key, id, since);
    return id;
  }

  /** A paged, ordered account search (JMAP /query). */
  search(search: AccountSearch): Promise<AccountSearchResult> {
    return this.store.accounts.search(search);
  }

  /** Account ids matching a filter. */
  query(filter: AccountFilter): Promise<number[]> {
    return this.store.accounts.query(filter);
  }

  /** Creates an account; the password (if any) is hashed before the transaction starts. */
  async create(input: AccountInput): Promise<Account> {
    const action = `Cannot create ${input.type === "Group" ? "group" : "account"} "${input.name}"`;
    if (input.type === "Group" && (input.password || input.roles?.length)) {
      throw new InvalidInputError(`${action}: a group has no password or roles`, [
        { property: input.password ? "credentials" : "roles", message: "groups cannot log in" },
      ]);
    }
    const hash = input.password ? await storedPassword(this.deps, input.password, action) : null;
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const id = await this.write(async () => {
      const domain = await requireDomain(this.store, input.domainId, action);
      await ensureAddressFree(this.store, input.name, domain, undefined, action);
      const aliases = await resolveAliases(
        this.store,
        input.aliases ?? [],
        undefined,
        action,
        `${input.name}@${domain.name}`,
      );
      const groups = await checkGroups(this.store, input.memberGroupIds ?? [], undefined, action);
      const sendAs = sendAsGroups(
        { type: input.type, groups, requested: input.sendAsGroupIds, before: [] },
        action,
      );
      const id = await this.store.accounts.insert({
        type: input.type,
        name: input.name,
        domainId: input.domainId,
        description: input.description ?? null,
        locale: input.locale ?? null,
        roles: input.type === "Group" ? [] : input.roles ?? ["user"],
        quotas: input.quotas ?? {},
        enabled: input.enabled ?? true,
      }, secret);
      if (input.forwardTo?.length || input.forwardKeepCopy === false) {
        const own = [`${input.name}@${domain.name}`, ...(input.aliases ?? [])];
        const forwardTo = forwardTargets(input.forwardTo ?? [], own, action);
        await this.store.accounts.update(id, { forwardTo, forwardKeepCopy: input.forwardKeepCopy });
      }
      if (aliases.length) await this.store.accounts.setAliases(id, aliases);
      if (groups.length) await this.store.accounts.setGroups(id, groups, sendAs);
      if (hash) await this.store.credentials.setPassword(id, hash);
      const mailboxChanges = input.type === "User" ? await createDefaultMailboxes(this.store, id) : [];
      const keys = [input.name, `${input.name}@${domain.name}`, ...(input.aliases ?? [])];
      return {
        result: id,
        events: [{ kind: "account", accountId: id, keys }, { kind: "credentials", accountId: id }],
        changes: [changed("Account", id, "created", id), ...mailboxChanges],
      };
    });
    return await this.require(id);
  }

  /** Updates the given fields of an account; unspecified fields keep their value. */
  async update(id: number, patch: Partial<Omit<AccountInput, "type">>): Promise<Account> {
    const before = await this.store.accounts.get(id);
    if (!before) throw new NotFoundError("Account", encodeId(id));
    const action = `Cannot update account "${before.name}"`;
    if (before.type === "Group" && (patch.password || patch.roles?.length)) {
      throw new InvalidInputError(`${action}: a group has no password or roles`, [
        { property: patch.password ? "credentials" : "roles", message: "groups cannot log in" },
      ]);
    }
    const hash = patch.password ? await storedPassword(this.deps, patch.password, action) : undefined;
    await this.write(async () => {
      const name = patch.name ?? before.name;
      const domainId = patch.domainId ?? before.domainId;
      const domain = await requireDomain(this.store, domainId, action);
      if (patch.name !== undefined || patch.domainId !== undefined) {
        await ensureAddressFree(this.store, name, domain, id, action);
      }
      const primary = `${name}@${domain.name}`;
      let aliases = patch.aliases && await resolveAliases(this.store, patch.aliases, id, action, primary);
      // Renaming onto one of the account's own aliases promotes it: the alias row gives way.
      if (!aliases && before.aliases.includes(primary)) {
        aliases = await resolveAliases(
          this.store,
          before.aliases.filter((a) => a !== primary),
          id,
          action,
          primary,
        );
      }
      const groups = patch.memberGroupIds && await checkGroups(this.store, patch.memberGroupIds, id, action);
      const sendAs = sendAsGroups({
        type: before.type,
        groups: groups ?? before.memberGroupIds,
        requested: patch.sendAsGroupIds,
        before: before.sendAsGroupIds,
      }, action);
      // Clear the old aliases before the primary address moves, so a swap between them never collides.
      if (aliases) await this.store.accounts.setAliases(id, []);
      await this.store.accounts.update(id, {
        name: patch.name,
        domainId: patch.domainId,
        description: patch.description,
        locale: patch.locale,
        roles: patch.roles,
        quotas: patch.quotas,
        enabled: patch.enabled,
        forwardTo: patch.forwardTo &&
          forwardTargets(patch.forwardTo, [primary, ...(patch.aliases ?? before.aliases)], action),
        forwardKeepCopy: patch.forwardKeepCopy,
      });
      if (aliases) await this.store.accounts.setAliases(id, aliases);
      if (groups || patch.sendAsGroupIds) {
        await this.store.accounts.setGroups(id, groups ?? before.memberGroupIds, sendAs);
      }
      const sight = groups ? await membershipSightChanges(this.store, id, before.memberGroupIds, groups) : [];
      if (hash !== undefined) await this.store.credentials.setPassword(id, hash);
      if (patch.password === null) await this.store.credentials.setPassword(id, null);
      // App passwords outlive a password change unless the change asks otherwise: a mail client keeps
      // working after a routine change, and a user who fears a leak revokes them in the same step.
      const revoked = patch.password !== undefined && patch.revokeAppPasswords
        ? await this.store.credentials.listByAccount(id, "AppPassword")
        : [];
      if (revoked.length) await this.store.credentials.deleteByAccount(id, "AppPassword");
      // A new password seals tokens under a new key: the old families can issue nothing, so they go.
      if (hash !== undefined || patch.password === null) await this.store.oauth.deleteGrantsOf(id);
      const keys = [
        ...loginKeys(before),
        name,
        `${name}@${domain.name}`,
        ...(patch.aliases ?? []),
      ];
      const events: InvalidationEvent[] = [{ kind: "account", accountId: id, keys }];
      if (patch.password !== undefined || patch.enabled !== undefined) {
        events.push({ kind: "credentials", accountId: id });
      }
      // A demoted administrator no longer stands behind the OAuth clients they own: the admin scope of
      // those clients' tokens is re-checked (src/oauth/tokens.ts verifyAccess), whoever signed in.
      if (before.roles.includes("admin") && patch.roles && !patch.roles.includes("admin")) {
        for (const client of await this.store.oauth.listClients(id)) {
          events.push({ kind: "oauthClient", clientId: client.id });
        }
      }
      // The sessions of those it shares with name it (by address): a new name or domain changes them.
      if (name !== before.name || domain.id !== before.domainId) {
        for (const granteeId of await this.sharedWith(id)) {
          events.push({ kind: "account", accountId: granteeId, keys: [] });
        }
      }
      return {
        result: id,
        events,
        changes: [
          changed("Account", id, "updated", id),
          ...revoked.map((key) => changed("AppPassword", key.id, "destroyed", id)),
          ...sight,
        ],
      };
    });
    return await this.require(id);
  }

  /** Deletes an account; its addresses, credentials, memberships and grants go with it (cascade). */
  async delete(id: number): Promise<{ account: Account; removed: Record<string, number> }> {
    const account = await this.store.accounts.get(id);
    if (!account) throw new NotFoundError("Account", encodeId(id));
    const removed = await this.store.accounts.dependents(id);
    await this.write(async () => {
      const keys = await this.store.credentials.listByAccount(id);
      const members = account.type === "Group" ? await this.store.accounts.memberIds(id) : [];
      // Accounts it shared with lose it from their sessions: their cached session state must go.
      const grantees = (await this.sharedWith(id)).filter((g) => !members.includes(g));
      // And their push listeners and IDLE sessions must hear of it, in a log that outlives this account's.
      const sharedTo = new Set(
        (await this.store.acl.givenBy(id)).map((g) => g.granteeId).filter((g) => g !== id),
      );
      // Mailboxes of others that were shared with it lose that grant from their shareWith: a change.
      const sharedWithIt = (await this.store.acl.heldBy(id))
        .filter((g) => g.objectType === "Mailbox" && g.objectId !== null && g.ownerId !== id);
      // The members of a deleted group lose sight of what was shared with it (unless shared otherwise).
      const sight: Change[] = [];
      for (const member of members) {
        const groupIds = (await this.store.accounts.get(member))?.memberGroupIds ?? [];
        sight.push(
          ...await membershipSightChanges(this.store, member, groupIds, groupIds.filter((g) => g !== id)),
        );
      }
      await this.store.accounts.delete(id);
      // Its API keys go with it: a client still using one holds a revoked key, it does not guess.
      const apiKeys = keys.filter((k) => k.type === "ApiKey").map((k) => k.hash);
      await this.store.credentials.noteRevokedKeys(apiKeys, Date.now());
      return {
        result: id,
        changes: [
          changed("Account", id, "destroyed", id),
          ...members.map((m) => changed("Account", m, "updated", m)),
          ...keys.filter((k) => k.type !== "Password").map((k) => changed(k.type, k.id, "destroyed", id)),
          ...sharedWithIt.map((g): Change => ({
            type: "Mailbox",
            objectId: g.objectId!,
            kind: "updated",
            accountId: g.ownerId,
          })),
          ...sight,
          ...[...sharedTo].map((granteeId): Change => ({
            type: SHARER_GONE,
            objectId: id,
            kind: "destroyed",
            accountId: granteeId,
          })),
        ],
        events: [
          ...[...members, ...grantees].map((m): InvalidationEvent => ({
            kind: "account",
            accountId: m,
            keys: [],
          })),
          { kind: "account", accountId: id, keys: loginKeys(account) },
          { kind: "credentials", accountId: id },
        ],
      };
    });
    return { account, removed };
  }

  /** Accounts an account shares with: direct grantees and the members of grantee groups. */
  private async sharedWith(id: number): Promise<number[]> {
    const ids = new Set<number>();
    for (const grant of await this.store.acl.givenBy(id)) {
      if (grant.granteeId === id) continue;
      ids.add(grant.granteeId);
      for (const member of await this.store.accounts.memberIds(grant.granteeId)) ids.add(member);
    }
    return [...ids];
  }

  /** What deleting the account would remove, for confirmations. */
  dependents(id: number): Promise<Record<string, number>> {
    return this.store.accounts.dependents(id);
  }

  /** The stored password hash of an account, if it has one. */
  async passwordHash(id: number): Promise<string | undefined> {
    const [password] = await this.store.credentials.listByAccount(id, "Password");
    return password?.hash;
  }

  /**
   * What sealed tokens of an account are keyed with: its password hash, or its random per-account
   * secret when it has no password. A new password changes it, so every token stops opening.
   */
  async credentialSecret(id: number): Promise<Uint8Array | undefined> {
    const hash = await this.passwordHash(id);
    return hash === undefined ? await this.store.accounts.secret(id) : new TextEncoder().encode(hash);
  }

  /**
   * Runs a write transaction that also logs its invalidations and changes (for JMAP states), then
   * applies the invalidations to this process's caches.
   */
  async write<T>(body: () => Promise<WriteOutcome<T>>): Promise<T> {
    let outcome: WriteOutcome<T>;
    try {
      outcome = await this.store.transaction(async () => {
        const outcome = await body();
        await this.store.invalidations.append(outcome.events);
        if (outcome.changes?.length) await this.store.changes.append(outcome.changes);
        return outcome;
      });
    } catch (error) {
      // The checks run inside an IMMEDIATE transaction, so this is a check we missed; it is still the
      // client's conflict, never a server fault.
      if (error instanceof Error && /UNIQUE constraint failed/.test(error.message)) {
        throw new ConflictError(`Cannot save: a name or address is already taken (${error.message})`);
      }
      throw error;
    }
    const { result, events } = outcome;
    for (const event of events) this.caches.apply(event);
    return result;
  }
}

/**
 * A login name as it is looked up: trimmed and in lower case. Everything keyed by a login (the cache,
 * the per-account throttle) uses this form, so padding or case changes name the same account.
 */
export function normalizeLogin(login: string): string {
  return login.trim().toLowerCase();
}

/** Every key an account can be looked up by at login. */
export function loginKeys(account: Account): string[] {
  return [account.name, account.primaryAddress, ...account.aliases];
}
