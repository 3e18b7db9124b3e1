/**
 * Token families: the grant rows every access and refresh token belongs to. Deleting a row revokes
 * the family; its refresh generation is the rotation and reuse check. Rows are read through a cache
 * kept coherent by invalidations (forget), created, extended, rotated and deleted here, each write
 * with what other processes must learn of it.
 */
import { BoundedCache, SecondSight } from "../cache/mod.ts";
import type { Account, GrantType, OAuthClient, OAuthGrant, Store } from "./deps.ts";

/** How long a cached family may go unused; correctness never depends on it (see #grants). */
const CACHE_TTL_MS = 15 * 60_000;

/** A refresh token's move to its next generation (the row's new refresh columns). */
export type Rotation = Parameters<Store["oauth"]["rotateRefresh"]>[1];

/** The authorization a new family records (the token service's IssueRequest). */
export interface FamilyRequest {
  client: OAuthClient;
  grantType: GrantType;
  scopes: string[];
  /** When the user signed in (ms). */
  authTime: number;
  /** Whether the family has a refresh token. */
  withRefresh: boolean;
}

/** What the families work with. */
export interface FamilyDeps {
  store: Store;
  /** The access-token lifetime now (ms), from the provider's settings. */
  accessTokenMs: () => number;
  /**
   * Records that a family was revoked or its refresh token rotated (an invalidation in the log, in the
   * caller's transaction, and applied to this process's caches).
   */
  revoked: (grant: OAuthGrant) => Promise<void>;
}

/** The token families of the provider, cached. */
export class TokenFamilies {
  // Token families by id: the revocation check of every refresh and cold access-token check. Reading
  // the row is a SQLite read transaction per refresh, a large share of a grant's server CPU (figure 6
  // of `deno task bench --only refresh`).
  // Whatever deletes or changes a row logs an invalidation that drops it here, in every process, before
  // their next request (forget): revocation and rotation (each in one transaction with its event,
  // below), a password change, an account, client or settings change. An expired row is read again
  // (the pruner deletes those without an event); a missing one is never cached.
  readonly #grants = new BoundedCache<number, OAuthGrant>({
    name: "oauth_grants",
    maxEntries: 50_000,
    ttlMs: CACHE_TTL_MS,
    negativeTtlMs: 0,
  });
  // A family is cached once read a second time: a fresh token's family is read by its one refresh
  // and, if ever, by the first check of the access token it issued; a family in use comes back.
  readonly #readTwice = new SecondSight(50_000);
  // client_credentials: the live family of each client, account and scope set (forClient).
  readonly #clientFamilies = new BoundedCache<string, number>({
    name: "oauth_client_families",
    maxEntries: 10_000,
    ttlMs: CACHE_TTL_MS,
    negativeTtlMs: 0,
  });

  constructor(private readonly deps: FamilyDeps) {}

  /** Drops cached families: one, an account's, or all of them when the scope is empty. */
  forget(scope: { accountId?: number; grantId?: number } = {}): void {
    if (scope.grantId !== undefined) this.#grants.delete(scope.grantId);
    else if (scope.accountId !== undefined) {
      this.#grants.deleteWhere((_, g) => g?.accountId === scope.accountId);
    } else this.#grants.clear();
  }

  /** A family by id, from the cache when it holds an unexpired copy, else from the database. */
  async get(id: number): Promise<OAuthGrant | undefined> {
    const cached = this.#grants.get(id);
    if (cached.status === "hit" && cached.value.expiresAt > Date.now()) return cached.value;
    // A revocation applied while the row was read must not be undone by storing the row it deleted.
    const since = this.#grants.epoch();
    const grant = await this.deps.store.oauth.grant(id);
    if (grant) {
      if (this.#readTwice.again(id)) this.#grants.set(id, grant, since);
    } else this.#grants.delete(id);
    return grant;
  }

  /** A family by id as the database holds it now (introspection and revocation: never a cached copy). */
  stored(id: number): Promise<OAuthGrant | undefined> {
    return this.deps.store.oauth.grant(id);
  }

  /**
   * The family of a client_credentials token: one per client, account and scope set, shared by every
   * access token issued for them while it lives, instead of a row (and its change-log entry) per
   * request — 113,152 rows after 35 s of load before. It is kept a whole access-token lifetime ahead
   * of the newest token, so it is written about once per lifetime, not per token. Revoking any of its
   * tokens (RFC 7009) revokes them all, which for a machine client is the safe reading: it asks for a
   * new token and gets a new family. Which family is live comes from this process's memory; another
   * process's revocation reaches it through the families cache's invalidation (see #grants), so a
   * deleted family is never reused, and a restart simply starts a new one.
   */
  async forClient(request: FamilyRequest, account: Account, accessExpires: number): Promise<OAuthGrant> {
    const key = `${request.client.id} ${account.id} ${request.scopes.join(" ")}`;
    const known = this.#clientFamilies.get(key);
    const live = known.status === "hit" ? await this.get(known.value) : undefined;
    if (live && live.grantType === "client_credentials" && live.accountId === account.id) {
      if (live.expiresAt >= accessExpires) return live;
      const extended = accessExpires + this.deps.accessTokenMs();
      await this.extend(live, extended);
      return { ...live, expiresAt: extended };
    }
    const grant = await this.create(request, account, {
      now: Date.now(),
      expiresAt: accessExpires + this.deps.accessTokenMs(),
      refreshExpires: null,
    });
    this.#clientFamilies.set(key, grant.id);
    return grant;
  }

  /** Inserts a family for `request` and reads it back; it lives until `expiresAt` at least. */
  async create(
    request: FamilyRequest,
    account: Account,
    times: { now: number; expiresAt: number; refreshExpires: number | null },
  ): Promise<OAuthGrant> {
    const { now, refreshExpires } = times;
    const grantId = await this.deps.store.oauth.insertGrant({
      clientId: request.client.id,
      accountId: account.id,
      grantType: request.grantType,
      scopes: request.scopes,
      authTime: request.authTime,
      refreshGeneration: request.withRefresh ? 1 : 0,
      refreshIssuedAt: request.withRefresh ? now : null,
      refreshExpiresAt: refreshExpires,
      rotatedAt: null,
      expiresAt: Math.max(times.expiresAt, refreshExpires ?? 0),
    });
    return (await this.deps.store.oauth.grant(grantId))!;
  }

  /** Makes a family live until `expiresAt` at least (a token it issued lives that long). */
  async extend(grant: OAuthGrant, expiresAt: number): Promise<void> {
    await this.deps.store.oauth.extendGrant(grant.id, expiresAt);
    this.#grants.delete(grant.id);
  }

  /**
   * Moves a family's refresh token on a generation, its invalidation logged in the same transaction
   * (other processes drop their copy of the row); false when another refresh rotated it first, in
   * which case this process's copy is dropped too.
   */
  async rotate(grant: OAuthGrant, next: Rotation): Promise<boolean> {
    const rotated = await this.deps.store.transaction(async () => {
      if (!await this.deps.store.oauth.rotateRefresh(grant.id, next)) return false;
      await this.deps.revoked(grant);
      return true;
    });
    if (!rotated) this.#grants.delete(grant.id);
    return rotated;
  }

  /**
   * Deletes a family and tells every cache (the deletion and its invalidation in one transaction);
   * the last family of a user and client takes the remembered consent with it.
   */
  async revoke(grant: OAuthGrant): Promise<void> {
    const { oauth } = this.deps.store;
    await this.deps.store.transaction(async () => {
      if (!(await oauth.deleteGrant(grant.id))) return;
      await this.deps.revoked(grant);
      await oauth.endConsentWithoutGrants(grant.accountId, grant.clientId, Date.now());
    });
  }
}
