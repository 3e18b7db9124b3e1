import type { DirectoryCaches, VerifiedCredential } from "../cache/mod.ts";
import type { AccessKeyService, AccountService, PasswordHashing } from "../directory/mod.ts";
import { API_KEY_PREFIX } from "../directory/mod.ts";
import { AuthError } from "../model/errors.ts";
import type { Account, Principal } from "../model/types.ts";
import { parseAuthorization } from "./parse_authorization.ts";
import type { RateLimiter } from "./rate_limiter.ts";

/** Verifies a Bearer token that is not an API key (OAuth access tokens, once that provider exists). */
export type TokenVerifier = (token: string) => Promise<VerifiedCredential | undefined>;

/** What the authenticator works with. */
export interface AuthenticatorDeps {
  accounts: AccountService;
  accessKeys: AccessKeyService;
  caches: DirectoryCaches;
  hasher: PasswordHashing;
  limiter: RateLimiter;
  /**
   * A hash of no password with the parameters the stored passwords have: unknown logins verify
   * against it, so they cost what a known account costs.
   */
  dummyHash(): string | Promise<string>;
  /** A collision-resistant digest of an Authorization header: the cache key, never the header itself. */
  headerKey(header: string): string;
  tokenVerifier?: TokenVerifier;
  /** Told of every wrong password (Basic or a sign-in page), for the dashboard's failed-login count. */
  onLoginFailure?: () => Promise<void>;
}

/**
 * What an app password may do: the mail protocols (JMAP mail and submission; SMTP and IMAP later),
 * never manage credentials or the server, which need the password, an API key or a scoped token.
 */
export const APP_PASSWORD_SCOPES: readonly string[] = Object.freeze([
  "urn:ietf:params:jmap:mail",
  "urn:ietf:params:jmap:submission",
]);

/** Outcome counters, exported as metrics. */
export interface AuthCounters {
  success: number;
  failure: number;
  rateLimited: number;
  malformed: number;
  cached: number;
}

/**
 * `authenticate(request) → Principal | AuthError`. Verified headers are cached under a hash of the
 * header and dropped when the account's credentials change. An AuthError is the only failure that
 * means 401; any other error is a fault and propagates as one.
 */
export class Authenticator {
  readonly counters: AuthCounters = { success: 0, failure: 0, rateLimited: 0, malformed: 0, cached: 0 };

  constructor(private readonly deps: AuthenticatorDeps) {}

  /** Authenticates an `Authorization` header value sent from `clientAddress`. */
  async authenticate(authorization: string | null, clientAddress: string): Promise<Principal> {
    return await this.principalFor(authorization, clientAddress);
  }

  /**
   * `authenticate` for the request path: a header verified before (and still valid) answers without a
   * promise; missing credentials throw at once.
   */
  principalFor(authorization: string | null, clientAddress: string): Principal | Promise<Principal> {
    if (!authorization) throw new AuthError("Authentication required", "missing", undefined);
    const cacheKey = this.deps.headerKey(authorization);
    const cached = this.deps.caches.authHeaders.get(cacheKey);
    if (cached.status === "hit" && (cached.value.expiresAt === null || cached.value.expiresAt > Date.now())) {
      const account = this.deps.accounts.peek(cached.value.accountId);
      if (account?.enabled) return this.cachedHit(account, cached.value);
    }
    return this.verify(
      authorization,
      clientAddress,
      cacheKey,
      cached.status === "hit" ? cached.value : undefined,
    );
  }

  private cachedHit(account: Account, credential: VerifiedCredential): Principal {
    this.counters.cached++;
    this.counters.success++;
    return principal(account, credential);
  }

  private async verify(
    authorization: string,
    clientAddress: string,
    cacheKey: string,
    cached: VerifiedCredential | undefined,
  ): Promise<Principal> {
    if (cached && (cached.expiresAt === null || cached.expiresAt > Date.now())) {
      // A verified header whose account is not in the cache: load it once.
      const account = await this.deps.accounts.get(cached.accountId);
      if (account?.enabled) return this.cachedHit(account, cached);
    }
    let parsed;
    try {
      parsed = parseAuthorization(authorization);
    } catch (error) {
      this.counters.malformed++;
      throw error;
    }
    const ipKey = `ip:${clientAddress}`;
    const accountKey = parsed.scheme === "Basic" ? `account:${parsed.login.toLowerCase()}` : undefined;
    for (const key of accountKey ? [ipKey, accountKey] : [ipKey]) {
      const decision = this.deps.limiter.check(key);
      if (!decision.allowed) {
        this.counters.rateLimited++;
        throw new AuthError(
          "Too many failed attempts; try again later",
          "rateLimited",
          parsed.scheme,
          Math.ceil(decision.retryAfterMs / 1000),
        );
      }
    }
    // Taken before any credential is read: if the credential changes while this verification runs,
    // the result is not cached after the invalidation that should have dropped it.
    const generation = this.deps.caches.credentialGeneration();
    const verified = parsed.scheme === "Basic"
      ? await this.verifyPassword(parsed.login, parsed.password)
      : await this.verifyBearer(parsed.token);
    if (!verified) {
      this.counters.failure++;
      this.deps.limiter.fail(ipKey);
      if (accountKey) this.deps.limiter.fail(accountKey);
      if (parsed.scheme === "Basic") await this.deps.onLoginFailure?.();
      throw new AuthError(
        parsed.scheme === "Basic" ? "Invalid username or password" : "The access token is invalid or expired",
        "invalid",
        parsed.scheme,
      );
    }
    if (accountKey) this.deps.limiter.succeed(accountKey);
    this.deps.caches.cacheVerified(cacheKey, verified.credential, generation);
    this.counters.success++;
    return principal(verified.account, verified.credential);
  }

  private async verifyPassword(login: string, password: string) {
    const id = await this.deps.accounts.idByLogin(login);
    const account = id === undefined ? undefined : await this.deps.accounts.get(id);
    if (!account || account.type !== "User") {
      // Same work as a real verification, so an unknown login cannot be told apart by timing.
      await this.deps.hasher.verify(await this.deps.dummyHash(), password);
      return undefined;
    }
    const appPassword = await this.deps.accessKeys.find("AppPassword", password);
    let credential: VerifiedCredential | undefined;
    if (appPassword && appPassword.accountId === account.id) {
      await this.deps.accessKeys.touch(appPassword);
      credential = {
        accountId: account.id,
        method: "appPassword",
        credentialId: appPassword.id,
        expiresAt: appPassword.expiresAt,
        scopes: APP_PASSWORD_SCOPES,
      };
    } else {
      const hash = await this.deps.accounts.passwordHash(account.id);
      const ok = await this.deps.hasher.verify(hash ?? await this.deps.dummyHash(), password);
      if (ok && hash) {
        credential = { accountId: account.id, method: "password", credentialId: null, expiresAt: null };
      }
    }
    return credential && account.enabled ? { account, credential } : undefined;
  }

  private async verifyBearer(token: string) {
    let credential: VerifiedCredential | undefined;
    if (token.startsWith(API_KEY_PREFIX)) {
      const key = await this.deps.accessKeys.find("ApiKey", token);
      if (key) {
        await this.deps.accessKeys.touch(key);
        credential = {
          accountId: key.accountId,
          method: "apiKey",
          credentialId: key.id,
          expiresAt: key.expiresAt,
        };
      }
    } else if (this.deps.tokenVerifier) {
      credential = await this.deps.tokenVerifier(token);
    }
    if (!credential) return undefined;
    const account = await this.deps.accounts.get(credential.accountId);
    return account?.enabled && account.type === "User" ? { account, credential } : undefined;
  }
}

function principal(account: Account, credential: VerifiedCredential): Principal {
  return {
    accountId: account.id,
    name: account.name,
    roles: account.roles,
    method: credential.method,
    credentialId: credential.credentialId,
    // One object shape for every principal (absent scopes are undefined): this runs on every request.
    scopes: credential.scopes,
    clientId: credential.clientId,
  };
}
