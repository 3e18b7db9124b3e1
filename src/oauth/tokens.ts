/**
 * Issuing, refreshing, checking and revoking tokens. Access and refresh tokens are sealed (see
 * token_codec.ts) and belong to a grant row, the token family (token_families.ts): deleting the row
 * revokes the family. ID tokens are JWTs signed by the current signing key.
 */
import { BoundedCache, hexHash, SecondSight, type VerifiedCredential } from "../cache/mod.ts";
import type { AccountService } from "../directory/mod.ts";
import {
  type Account,
  encodeId,
  type GrantType,
  type OAuthClient,
  type OAuthGrant,
  type Store,
} from "./deps.ts";
import { invalidGrant, invalidScope, OAuthError } from "./errors.ts";
import { ADMIN_SCOPE } from "./client_rules.ts";
import type { ClientLookup } from "./clients.ts";
import type { ProviderSettings } from "./settings.ts";
import type { SigningKeys } from "./signing_keys.ts";
import { idTokenClaims, type IdTokenRequest } from "./id_tokens.ts";
import {
  type ClearClaims,
  type KeyMaterial,
  openToken,
  readClearClaims,
  sealToken,
  type TokenClaims,
} from "./token_codec.ts";
import { TokenFamilies } from "./token_families.ts";

/** A token endpoint response (RFC 6749 §5.1, OIDC Core §3.1.3.3). */
export interface TokenSet {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

/** What issuing tokens needs to know about the authorization behind them. */
export interface IssueRequest {
  client: OAuthClient;
  accountId: number;
  grantType: GrantType;
  scopes: string[];
  /** When the user signed in (ms). */
  authTime: number;
  nonce?: string | null;
  issuer: string;
  /** Whether to issue a refresh token (the caller applies the client's grants and offline_access). */
  withRefresh: boolean;
}

/** What the token service works with. */
export interface TokenDeps {
  store: Store;
  accounts: AccountService;
  clients: ClientLookup;
  keys: SigningKeys;
  settings: () => ProviderSettings;
  /** The token encryption key (OidcProvider `encryptionKey`). */
  serverKey: () => Promise<Uint8Array>;
  /**
   * Records that a family was revoked or its refresh token rotated (an invalidation in the log, in the
   * caller's transaction, and applied to this process's caches).
   */
  revoked: (grant: OAuthGrant) => Promise<void>;
  /** What tokens of an account are keyed with (see AccountService.credentialSecret), cached. */
  credentialSecret: (accountId: number) => Promise<Uint8Array | undefined>;
  /** A collision-resistant digest of a token: the key of the validated-token cache. */
  tokenKey: (token: string) => string;
  /** Whether an administrator stands behind a client now (OAuthProvider.trusted). */
  trusted: (client: OAuthClient) => Promise<boolean>;
}

/** The cache of tokens already opened ("validated tokens"), by digest. */
type OpenedCache = BoundedCache<string, TokenClaims>;

/** How long a cached token may go unused; correctness never depends on it (see below). */
const CACHE_TTL_MS = 15 * 60_000;

const seconds = (ms: number) => Math.floor(ms / 1000);

/** Token issue, refresh, verification, introspection and revocation. */
export class TokenService {
  // A confidential client presents the same refresh token for days: its seal is opened once. Entries
  // go when what the key is derived from changes (forget), exactly like the verified-header cache.
  readonly #opened: OpenedCache = new BoundedCache({
    name: "oauth_tokens",
    maxEntries: 50_000,
    ttlMs: CACHE_TTL_MS,
    negativeTtlMs: 0,
  });
  // Only a token presented again is cached: a fresh refresh token per request (a public client's
  // rotation, or every grant of a busy provider) is opened once and never again.
  readonly #openedTwice = new SecondSight(50_000);
  readonly #families: TokenFamilies;

  constructor(private readonly deps: TokenDeps) {
    this.#families = new TokenFamilies({
      store: deps.store,
      accessTokenMs: () => deps.settings().accessTokenMs,
      revoked: deps.revoked,
    });
  }

  /**
   * Drops opened tokens and families that an invalidation makes stale: one family's, one account's,
   * or all of them when the scope is empty.
   */
  forget(scope: { accountId?: number; grantId?: number } = {}): void {
    if (scope.grantId !== undefined) {
      this.#opened.deleteWhere((_, c) => c?.grantId === scope.grantId);
    } else if (scope.accountId !== undefined) {
      this.#opened.deleteWhere((_, c) => c?.accountId === scope.accountId);
    } else {
      this.#opened.clear();
    }
    this.#families.forget(scope);
  }

  /**
   * Creates a token family and issues its first tokens; a client_credentials request joins its
   * client's live family instead (see TokenFamilies.forClient).
   */
  async issue(request: IssueRequest): Promise<{ tokens: TokenSet; grant: OAuthGrant }> {
    const account = await this.usableAccount(request.accountId);
    const settings = this.deps.settings();
    const now = Date.now();
    const accessExpires = now + settings.accessTokenMs;
    const refreshExpires = request.withRefresh
      ? now + Math.min(settings.refreshTokenMs, settings.refreshAbsoluteMs)
      : null;
    const grant = request.grantType === "client_credentials" && refreshExpires === null
      ? await this.#families.forClient(request, account, accessExpires)
      : await this.#families.create(request, account, { now, expiresAt: accessExpires, refreshExpires });
    const material = await this.material(request.client, account);
    const tokens: TokenSet = {
      access_token: this.access(grant, material, now),
      token_type: "Bearer",
      expires_in: seconds(settings.accessTokenMs),
      scope: request.scopes.join(" "),
    };
    if (refreshExpires !== null) tokens.refresh_token = this.refresh(grant, material, 1, now, refreshExpires);
    if (request.scopes.includes("openid")) {
      tokens.id_token = await this.idToken(request, account, tokens.access_token, now);
    }
    return { tokens, grant };
  }

  /**
   * The refresh_token grant. A public client's refresh token rotates on every use; a confidential
   * client's when less than `refreshTokenRenewal` is left; no refresh token outlives the family's
   * absolute end (`refreshTokenAbsoluteExpiry` after its creation). Presenting a rotated token again
   * within `refreshTokenReuseGrace` gets the answer the first use got again (the same successor, an
   * access token issued at the rotation): a retry, never new tokens with a fresh lifetime. Outside it
   * (with the default grace of 0, always) the whole family is revoked. Scopes in `withheld` (the client
   * may not get them now) are left out of the new access token.
   */
  async refreshGrant(
    client: OAuthClient,
    token: string,
    options: { scope?: string; issuer: string; withheld?: readonly string[] },
  ): Promise<TokenSet> {
    const opened = await this.open(token, "refresh");
    if (!opened || opened.client.id !== client.id) {
      throw invalidGrant("The refresh token is invalid, expired or was issued to another client");
    }
    const { claims, account, material } = opened;
    let grant = await this.#families.get(claims.grantId);
    if (!grant || grant.accountId !== account.id || grant.clientId !== client.id) {
      throw invalidGrant("The refresh token has been revoked");
    }
    const settings = this.deps.settings();
    const now = Date.now();
    const absoluteEnd = grant.createdAt + settings.refreshAbsoluteMs;
    if (now >= absoluteEnd) {
      throw invalidGrant("This authorization has reached its longest lifetime; the user must sign in again");
    }
    // A retry of a rotation within the grace window: the tokens it issued, as of the rotation.
    const retry = (family: OAuthGrant) => {
      if (family.rotatedAt === null || now - family.rotatedAt >= settings.reuseGraceMs) return undefined;
      return { grant: family, refreshToken: this.successor(family, material), issuedAt: family.rotatedAt };
    };
    let answer: { grant: OAuthGrant; refreshToken: string; issuedAt: number } | undefined = {
      grant,
      refreshToken: token,
      issuedAt: now,
    };
    if (claims.generation === grant.refreshGeneration) {
      const left = (grant.refreshExpiresAt ?? 0) - now;
      if (client.type === "Public" || left < settings.refreshRenewalMs) {
        const next = {
          from: grant.refreshGeneration,
          generation: grant.refreshGeneration + 1,
          issuedAt: now,
          expiresAt: Math.min(now + settings.refreshTokenMs, absoluteEnd),
          rotatedAt: now,
        };
        if (await this.#families.rotate(grant, next)) {
          grant = (await this.#families.get(grant.id))!;
          answer = {
            grant,
            refreshToken: this.refresh(grant, material, next.generation, now, next.expiresAt),
            issuedAt: now,
          };
        } else {
          // A concurrent refresh with the same token rotated first: this one is a reuse like any other.
          grant = await this.#families.get(grant.id);
          if (!grant) throw invalidGrant("The refresh token has been revoked");
          answer = retry(grant);
        }
      }
    } else if (claims.generation === grant.refreshGeneration - 1) {
      answer = retry(grant);
    } else {
      answer = undefined;
    }
    if (!answer) {
      await this.revokeGrant(grant);
      throw invalidGrant("The refresh token was already used; every token of this authorization is revoked");
    }
    const { issuedAt } = answer;
    grant = answer.grant;
    const scopes = narrowScopes(grant.scopes, options.scope).filter((s) => !options.withheld?.includes(s));
    const accessGrant = { ...grant, scopes };
    const tokens: TokenSet = {
      access_token: this.access(accessGrant, material, issuedAt),
      token_type: "Bearer",
      expires_in: seconds(issuedAt + settings.accessTokenMs - now),
      scope: scopes.join(" "),
      refresh_token: answer.refreshToken,
    };
    // The family lives as long as anything it issued; a write only when this access token outlives it.
    if (grant.expiresAt < issuedAt + settings.accessTokenMs) {
      await this.#families.extend(grant, issuedAt + settings.accessTokenMs);
    }
    if (scopes.includes("openid")) {
      tokens.id_token = await this.idToken(
        { client, scopes, authTime: grant.authTime, issuer: options.issuer },
        account,
        tokens.access_token,
        issuedAt,
      );
    }
    return tokens;
  }

  /** Checks an access token (for the authenticator): the credential it stands for, or undefined. */
  async verifyAccess(token: string): Promise<VerifiedCredential | undefined> {
    const opened = await this.open(token, "access");
    if (!opened) return undefined;
    const grant = await this.#families.get(opened.claims.grantId);
    if (!grant || grant.accountId !== opened.account.id) return undefined;
    // The admin scope counts only while an administrator stands behind the client: the access tokens of a
    // client whose owner was demoted keep their mail scopes and lose this one at once, not at expiry.
    let scopes = opened.claims.scopes;
    if (scopes.includes(ADMIN_SCOPE) && !await this.deps.trusted(opened.client)) {
      scopes = scopes.filter((scope) => scope !== ADMIN_SCOPE);
    }
    return {
      accountId: opened.account.id,
      method: "accessToken",
      credentialId: grant.id,
      expiresAt: opened.claims.expiresAt * 1000,
      scopes,
      clientId: opened.client.clientId,
    };
  }

  /**
   * RFC 7662 introspection of an access or refresh token by `caller`: a token issued to another
   * client is inactive to it (§4: what a token is for is not every client's business), unless the
   * caller is a resource server an administrator allowed to introspect every token.
   */
  async introspect(
    caller: OAuthClient,
    token: string,
    issuer: string,
  ): Promise<Record<string, unknown>> {
    const kind = readClearClaims(token)?.kind;
    const opened = kind ? await this.open(token, kind) : undefined;
    if (!opened) return { active: false };
    if (opened.client.id !== caller.id && !caller.resourceServer) return { active: false };
    const grant = await this.#families.stored(opened.claims.grantId);
    if (!grant || grant.accountId !== opened.account.id) return { active: false };
    if (kind === "refresh" && opened.claims.generation !== grant.refreshGeneration) return { active: false };
    return {
      active: true,
      scope: opened.claims.scopes.join(" "),
      client_id: opened.client.clientId,
      username: opened.account.primaryAddress,
      token_type: kind === "access" ? "Bearer" : "refresh_token",
      exp: opened.claims.expiresAt,
      iat: opened.claims.issuedAt,
      sub: encodeId(opened.account.id),
      aud: opened.client.clientId,
      iss: issuer,
    };
  }

  /**
   * RFC 7009 revocation by `client`: the token's whole family goes (its refresh and access tokens).
   * A token that is unknown, invalid or another client's is ignored, as the RFC asks.
   */
  async revoke(client: OAuthClient, token: string): Promise<void> {
    const kind = readClearClaims(token)?.kind;
    const opened = kind ? await this.open(token, kind) : undefined;
    if (!opened || opened.client.id !== client.id) return;
    const grant = await this.#families.stored(opened.claims.grantId);
    if (grant && grant.clientId === client.id) await this.revokeGrant(grant);
  }

  /**
   * Deletes a token family and tells every cache (the deletion and its invalidation in one
   * transaction); the last family of a user and client takes the remembered consent with it.
   */
  revokeGrant(grant: OAuthGrant): Promise<void> {
    return this.#families.revoke(grant);
  }

  private async open(token: string, kind: ClearClaims["kind"]) {
    const key = this.deps.tokenKey(token);
    const cached = this.#opened.get(key);
    // Taken before the account and key material are read: a password change applied meanwhile keeps
    // the claims opened with the old material out of the cache.
    const since = this.#opened.epoch();
    const clear = cached.status === "hit" ? cached.value : readClearClaims(token);
    if (!clear || clear.kind !== kind || clear.expiresAt * 1000 <= Date.now()) return undefined;
    const [client, account] = await Promise.all([
      this.deps.clients.byId(clear.clientRowId),
      this.deps.accounts.peek(clear.accountId) ?? this.deps.accounts.get(clear.accountId),
    ]);
    if (!client || !account?.enabled || account.type !== "User") return undefined;
    const material = await this.material(client, account);
    const claims = cached.status === "hit" ? cached.value : openToken(token, material);
    if (claims && cached.status !== "hit" && this.#openedTwice.again(hexHash(key))) {
      this.#opened.set(key, claims, since);
    }
    return claims && { claims, client, account, material };
  }

  private async material(client: OAuthClient, account: Account): Promise<KeyMaterial> {
    const secret = await this.deps.credentialSecret(account.id);
    if (!secret) throw new OAuthError("server_error", "The account has no credential secret", 500);
    return {
      serverKey: await this.deps.serverKey(),
      clientId: client.clientId,
      accountName: account.name,
      credentialSecret: secret,
    };
  }

  private async usableAccount(id: number): Promise<Account> {
    const account = await this.deps.accounts.get(id);
    if (!account || !account.enabled || account.type !== "User") {
      throw invalidGrant("The account is disabled or no longer exists");
    }
    return account;
  }

  private access(grant: OAuthGrant, material: KeyMaterial, now: number): string {
    return sealToken(
      this.claims(grant, "access", grant.refreshGeneration, now, now + this.deps.settings().accessTokenMs),
      material,
    );
  }

  private refresh(grant: OAuthGrant, material: KeyMaterial, generation: number, at: number, until: number) {
    return sealToken(this.claims(grant, "refresh", generation, at, until), material);
  }

  /** The current refresh token of a family, re-created byte for byte (the seal is deterministic). */
  private successor(grant: OAuthGrant, material: KeyMaterial): string {
    return this.refresh(
      grant,
      material,
      grant.refreshGeneration,
      grant.refreshIssuedAt!,
      grant.refreshExpiresAt!,
    );
  }

  private claims(
    grant: OAuthGrant,
    kind: "access" | "refresh",
    generation: number,
    issuedAt: number,
    expiresAt: number,
  ): TokenClaims {
    return {
      kind,
      accountId: grant.accountId,
      clientRowId: grant.clientId,
      issuedAt: seconds(issuedAt),
      expiresAt: seconds(expiresAt),
      grantId: grant.id,
      generation,
      scopes: grant.scopes,
    };
  }

  private async idToken(
    request: IdTokenRequest,
    account: Account,
    accessToken: string,
    now: number,
  ): Promise<string> {
    const settings = this.deps.settings();
    return await this.deps.keys.sign(
      await idTokenClaims(request, account, {
        accessToken,
        now,
        lifetimeMs: settings.idTokenMs,
        algorithm: settings.signatureAlgorithm,
      }),
    );
  }
}

/** The scopes of a refresh: all the grant's, or the subset asked for (RFC 6749 §6). */
function narrowScopes(granted: string[], requested: string | undefined): string[] {
  if (requested === undefined) return granted;
  const asked = requested.split(" ").filter(Boolean);
  const extra = asked.filter((s) => !granted.includes(s));
  if (extra.length) throw invalidScope(`Scopes not granted originally cannot be added: ${extra.join(" ")}`);
  return asked;
}
