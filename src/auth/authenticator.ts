import type { DirectoryCaches, VerifiedCredential } from "../cache/mod.ts";
import type { AccessKeyService, AccountService, PasswordHashing } from "../directory/mod.ts";
import { API_KEY_PREFIX, normalizeLogin } from "../directory/mod.ts";
import { AuthError } from "../model/errors.ts";
import type { Account, Principal } from "../model/types.ts";
import { parseAuthorization } from "./parse_authorization.ts";
import type { LoginThrottle } from "./rate_limiter.ts";

/** Verifies a Bearer token that is not an API key (OAuth access tokens, once that provider exists). */
export type TokenVerifier = (token: string) => Promise<VerifiedCredential | undefined>;

/** What the authenticator works with. */
export interface AuthenticatorDeps {
  accounts: AccountService;
  accessKeys: AccessKeyService;
  caches: DirectoryCaches;
  hasher: PasswordHashing;
  limiter: LoginThrottle;
  /**
   * A hash of no password with the parameters the stored passwords have: unknown logins verify
   * against it, so they cost what a known account costs.
   */
  dummyHash(): string | Promise<string>;
  /** A collision-resistant digest of an Authorization header: the cache key, never the header itself. */
  headerKey(header: string): string;
  tokenVerifier?: TokenVerifier;
  /**
   * Told of every wrong password (Basic or a sign-in page): the dashboard's failed-login count and the
   * warning fail2ban reads. `login` is the name as typed after normalising.
   */
  onLoginFailure?: (failure: { login: string; client: string }) => Promise<void>;
  /**
   * Clients (`ip:<address>`, `device:<browser cookie>`) each account has logged in from: a correct
   * password from one of them is not held back by failures from elsewhere.
   */
  knownClients?: {
    has(accountId: number, client: string): Promise<boolean>;
    remember(accountId: number, client: string): Promise<void>;
  };
}

/** Where a login comes from beyond its address: the sign-in page's browser cookie. */
export interface LoginOrigin {
  device?: string;
}

/**
 * What an app password may do: the mail protocols (JMAP mail and submission; SMTP and IMAP later),
 * never manage credentials or the server, which need the password, an API key or a scoped token.
 */
export const APP_PASSWORD_SCOPES: readonly string[] = Object.freeze([
  "urn:ietf:params:jmap:mail",
  "urn:ietf:params:jmap:submission",
]);

type Verified = { account: Account; credential: VerifiedCredential };

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
  async authenticate(
    authorization: string | null,
    clientAddress: string,
    origin: LoginOrigin = {},
  ): Promise<Principal> {
    return await this.principalFor(authorization, clientAddress, origin);
  }

  /**
   * `authenticate` for the request path: a header verified before (and still valid) answers without a
   * promise; missing credentials throw at once.
   */
  principalFor(
    authorization: string | null,
    clientAddress: string,
    origin: LoginOrigin = {},
  ): Principal | Promise<Principal> {
    if (!authorization) throw new AuthError("Authentication required", "missing", undefined);
    const cacheKey = this.deps.headerKey(authorization);
    const cached = this.deps.caches.authHeaders.get(cacheKey);
    if (cached.status === "hit" && (cached.value.expiresAt === null || cached.value.expiresAt > Date.now())) {
      const account = this.deps.accounts.peek(cached.value.accountId);
      if (account?.enabled) return this.cachedHit(account, cached.value);
    }
    return this.verify(authorization, clientAddress, {
      cacheKey,
      cached: cached.status === "hit" ? cached.value : undefined,
      origin,
    });
  }

  /**
   * Seconds a client address must wait before typing another device user code (RFC 8628 §5.1), or
   * undefined when it may go on.
   */
  async userCodeWait(clientAddress: string): Promise<number | undefined> {
    const decision = await this.deps.limiter.check(`userCode:${clientAddress}`);
    return decision.allowed ? undefined : Math.ceil(decision.retryAfterMs / 1000);
  }

  /** Counts a device user code typed from `clientAddress` that matched no pending code. */
  async userCodeFailed(clientAddress: string): Promise<void> {
    await this.deps.limiter.fail(`userCode:${clientAddress}`);
  }

  private cachedHit(account: Account, credential: VerifiedCredential): Principal {
    this.counters.cached++;
    this.counters.success++;
    return principal(account, credential);
  }

  private async verify(
    authorization: string,
    clientAddress: string,
    options: { cacheKey: string; cached: VerifiedCredential | undefined; origin: LoginOrigin },
  ): Promise<Principal> {
    const { cached } = options;
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
    // Taken before any credential is read: if the credential changes while this verification runs,
    // the result is not cached after the invalidation that should have dropped it.
    const generation = this.deps.caches.credentialGeneration();
    const verified = parsed.scheme === "Basic"
      ? await this.basic(parsed.login, parsed.password, clientAddress, options.origin)
      : await this.bearer(parsed.token, clientAddress);
    this.deps.caches.cacheVerified(options.cacheKey, verified.credential, generation);
    this.counters.success++;
    return principal(verified.account, verified.credential);
  }

  private async basic(login: string, password: string, clientAddress: string, origin: LoginOrigin) {
    const ipKey = `ip:${clientAddress}`;
    await this.refuseIfLimited(ipKey, "Basic");
    const name = normalizeLogin(login);
    const id = await this.deps.accounts.idByLogin(name);
    // Keyed by the name as normalised, so padding or case changes meet the same throttle. Not by the
    // account it names: then failing with one name and trying another would tell whether both name
    // one account, which unknown names cannot imitate.
    const accountKey = `account:${name}`;
    // Failures from elsewhere do not lock the owner out of a client they have used before.
    if (
      !(await this.deps.limiter.check(accountKey)).allowed &&
      !(id !== undefined && await this.known(id, clientAddress, origin))
    ) {
      await this.refuseIfLimited(accountKey, "Basic");
    }
    const verified = await this.verifyPassword(id, password);
    if (!verified) {
      this.counters.failure++;
      await this.deps.limiter.fail(ipKey);
      await this.deps.limiter.fail(accountKey);
      await this.deps.onLoginFailure?.({ login: name, client: clientAddress });
      throw new AuthError("Invalid username or password", "invalid", "Basic");
    }
    // The account's failures are not forgotten on a success: they may be someone else's, and forgetting
    // them would give that someone fresh free attempts each time the owner signs in.
    for (const client of clientsOf(clientAddress, origin)) {
      await this.deps.knownClients?.remember(verified.account.id, client);
    }
    return verified;
  }

  private async known(accountId: number, clientAddress: string, origin: LoginOrigin): Promise<boolean> {
    for (const client of clientsOf(clientAddress, origin)) {
      if (await this.deps.knownClients?.has(accountId, client)) return true;
    }
    return false;
  }

  /**
   * A valid token is never throttled: tokens are too long to guess, so the throttle only slows
   * guesses. Only a guess (an API key that never existed) counts against the address; a token of a
   * known kind that expired or was revoked does not, or one stale client would lock out everyone
   * behind the same address.
   */
  private async bearer(token: string, clientAddress: string): Promise<Verified> {
    const outcome = await this.verifyBearer(token);
    if ("account" in outcome) return outcome;
    const ipKey = `ip:${clientAddress}`;
    if (outcome.guess) {
      await this.refuseIfLimited(ipKey, "Bearer");
      await this.deps.limiter.fail(ipKey);
    }
    this.counters.failure++;
    throw new AuthError("The access token is invalid or expired", "invalid", "Bearer");
  }

  private async refuseIfLimited(key: string, scheme: "Basic" | "Bearer"): Promise<void> {
    const decision = await this.deps.limiter.check(key);
    if (decision.allowed) return;
    this.counters.rateLimited++;
    throw new AuthError(
      "Too many failed attempts; try again later",
      "rateLimited",
      scheme,
      Math.ceil(decision.retryAfterMs / 1000),
    );
  }

  private async verifyPassword(id: number | undefined, password: string): Promise<Verified | undefined> {
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

  private async verifyBearer(token: string): Promise<Verified | { guess: boolean }> {
    let credential: VerifiedCredential | undefined;
    if (token.startsWith(API_KEY_PREFIX)) {
      const key = await this.deps.accessKeys.identify("ApiKey", token);
      if (!key) return { guess: !(await this.deps.accessKeys.wasRevoked(token)) };
      if (key.expiresAt !== null && key.expiresAt <= Date.now()) return { guess: false };
      await this.deps.accessKeys.touch(key);
      credential = {
        accountId: key.accountId,
        method: "apiKey",
        credentialId: key.id,
        expiresAt: key.expiresAt,
      };
    } else if (this.deps.tokenVerifier) {
      credential = await this.deps.tokenVerifier(token);
    }
    if (!credential) return { guess: false };
    const account = await this.deps.accounts.get(credential.accountId);
    return account?.enabled && account.type === "User" ? { account, credential } : { guess: false };
  }
}

/** The clients a login comes from, as the known-client list names them. */
function clientsOf(clientAddress: string, origin: LoginOrigin): string[] {
  return origin.device ? [`ip:${clientAddress}`, `device:${origin.device}`] : [`ip:${clientAddress}`];
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
