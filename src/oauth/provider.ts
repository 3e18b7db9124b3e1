/**
 * The OAuth / OpenID Connect provider's core, wired once: settings, the token key, clients, signing
 * keys, tokens, codes and browser state. The endpoints (endpoints/) are a surface over this.
 */
import { getLogger } from "@logtape/logtape";
import type { VerifiedCredential } from "../cache/mod.ts";
import type { AccountService, ObjectService, SettingsService } from "../directory/mod.ts";
import { type InvalidationEvent, MisconfigurationError, type OAuthClient, type Store } from "./deps.ts";
import { BrowserState } from "./browser.ts";
import { ClientService } from "./clients.ts";
import { CodeService } from "./codes.ts";
import { invalidClient, invalidRequest } from "./errors.ts";
import { grantHandler } from "./grants.ts";
import {
  generateKeyText,
  KeyUnavailableError,
  type ProviderSettings,
  resolveSettings,
  secretKeyBytes,
} from "./settings.ts";
import { SigningKeys } from "./signing_keys.ts";
import { TokenService } from "./tokens.ts";

/** What the provider is built from. */
export interface ProviderDeps {
  store: Store;
  accounts: AccountService;
  settings: SettingsService;
  objects: ObjectService;
  /** Keyed hash of secrets (the one app passwords and API keys use). */
  keyedHash: (secret: string) => string;
  /** The bootstrap key (data directory): seals the signing keys at rest. */
  bootstrapKey: Uint8Array;
  /** The environment read at boot (for an `EnvironmentVariable` encryptionKey). */
  env: Readonly<Record<string, string | undefined>>;
  /** Appends invalidation events to the log in a transaction and applies them to this process. */
  invalidate: (event: InvalidationEvent) => Promise<void>;
  /** A collision-resistant digest of a token (the validated-token cache key). */
  tokenKey: (token: string) => string;
}

/** How a client authenticated at a token-type endpoint. */
export interface ClientCredentials {
  /** From `Authorization: Basic` (client_secret_basic). */
  basic?: { clientId: string; secret: string };
  /** From the form (client_secret_post, or a public client's bare client_id). */
  clientId?: string;
  clientSecret?: string;
}

/** The provider core. */
export class OAuthProvider {
  readonly clients: ClientService;
  readonly keys: SigningKeys;
  readonly tokens: TokenService;
  readonly codes: CodeService;
  readonly browser: BrowserState;
  #settings: ProviderSettings | undefined;
  /** Token key material per account; dropped when the account or its credentials change. */
  readonly #secrets = new Map<number, Promise<Uint8Array | undefined>>();
  #serverKey: Promise<Uint8Array> | undefined;
  /** When an unreadable token key was last logged (once a minute is enough to be seen). */
  #keyFailureLoggedAt = 0;

  private constructor(private readonly deps: ProviderDeps) {
    const settings = () => this.settings;
    this.clients = new ClientService(deps.store, deps.accounts, deps.keyedHash, deps.invalidate);
    this.keys = new SigningKeys(deps.store, deps.bootstrapKey, {
      algorithm: () => this.settings.signatureAlgorithm,
      // As long as any token can be presented: an RP keeps the ID token of its last sign-in or refresh
      // for logout (id_token_hint) as long as its refresh token lives.
      keepRetiredMs: () =>
        Math.max(this.settings.idTokenMs, this.settings.accessTokenMs, this.settings.refreshTokenMs),
    });
    this.tokens = new TokenService({
      store: deps.store,
      accounts: deps.accounts,
      clients: this.clients,
      keys: this.keys,
      settings,
      serverKey: () => this.serverKey(),
      revoked: (grant) =>
        deps.invalidate({ kind: "oauthGrant", grantId: grant.id, accountId: grant.accountId }),
      credentialSecret: (accountId) => this.credentialSecret(accountId),
      tokenKey: deps.tokenKey,
      trusted: (client) => this.trusted(client),
    });
    this.codes = new CodeService(deps.store, this.tokens, settings);
    this.browser = new BrowserState(deps.store, deps.accounts, settings);
    deps.objects.register("OAuthClient", this.clients.handler());
    deps.objects.register("OAuthGrant", grantHandler(deps.store, this.clients, this.tokens));
  }

  /** Builds the provider; on first start, generates and stores the token encryption key. */
  static async open(deps: ProviderDeps): Promise<OAuthProvider> {
    const provider = new OAuthProvider(deps);
    const current = await deps.settings.get("OidcProvider");
    if (current.encryptionKey === null) {
      await deps.settings.update("OidcProvider", {
        encryptionKey: { "@type": "Value", secret: generateKeyText() },
      });
    }
    await provider.reload();
    return provider;
  }

  /** The resolved settings (reloaded when the OidcProvider singleton changes). */
  get settings(): ProviderSettings {
    if (!this.#settings) throw new Error("OAuthProvider used before open()");
    return this.#settings;
  }

  /** Re-reads the settings singleton, the token key and the signing keys. */
  async reload(): Promise<void> {
    this.#settings = resolveSettings(await this.deps.settings.get("OidcProvider"));
    this.tokens.forget();
    this.#serverKey = undefined;
    this.keys.reload();
    this.clients.forget();
  }

  /** The key material of an account's tokens (its password hash or secret), cached. */
  credentialSecret(accountId: number): Promise<Uint8Array | undefined> {
    let secret = this.#secrets.get(accountId);
    if (!secret) {
      if (this.#secrets.size >= 10_000) this.#secrets.clear();
      secret = this.deps.accounts.credentialSecret(accountId);
      this.#secrets.set(accountId, secret);
      secret.catch(() => this.#secrets.delete(accountId));
    }
    return secret;
  }

  /** Applies an invalidation event from this or another process. */
  async onInvalidation(event: InvalidationEvent): Promise<void> {
    if (event.kind === "account" || event.kind === "credentials") {
      this.#secrets.delete(event.accountId);
      this.tokens.forget({ accountId: event.accountId });
    }
    if (event.kind === "oauthGrant") this.tokens.forget({ grantId: event.grantId });
    if (event.kind === "all" || event.kind === "domain" || event.kind === "oauthClient") {
      this.#secrets.clear();
      this.tokens.forget();
    }
    if (event.kind === "oauthClient") this.clients.forget(event.clientId);
    if (event.kind === "all") this.clients.forget();
    if (event.kind === "signingKeys") this.keys.reload();
    if (event.kind === "settings" && event.name === "OidcProvider") await this.reload();
  }

  /**
   * The token key's bytes (read from a variable or file at most once per settings change). A key that
   * cannot be read is logged with its reason, and callers get a MisconfigurationError that each
   * surface answers as an explicit server error (the reason, naming a variable or file, stays in the log).
   */
  serverKey(): Promise<Uint8Array> {
    return this.#serverKey ??= this.readServerKey().catch((error) => {
      this.#serverKey = undefined;
      if (!(error instanceof KeyUnavailableError)) throw error;
      if (Date.now() - this.#keyFailureLoggedAt > 60_000) {
        this.#keyFailureLoggedAt = Date.now();
        getLogger(["postern", "oauth"]).error("Tokens cannot be issued or checked: {reason}", {
          reason: error.message,
        });
      }
      throw new MisconfigurationError(
        "Tokens cannot be issued or checked: the server's token encryption key (OidcProvider " +
          "encryptionKey) is unavailable; the server log says why",
        { cause: error },
      );
    });
  }

  /** Reads the token key once, for a server's start: a KeyUnavailableError names the variable or file. */
  async checkServerKey(): Promise<void> {
    try {
      await this.readServerKey();
    } catch (error) {
      if (!(error instanceof KeyUnavailableError)) throw error;
      throw new KeyUnavailableError(
        `The token encryption key is unavailable: ${error.message}. Provide it, or change it with ` +
          "`postern update oidc-provider singleton --field encryptionKey=…` (which revokes every token)",
      );
    }
  }

  private async readServerKey(): Promise<Uint8Array> {
    const { encryptionKey } = await this.deps.settings.get("OidcProvider");
    if (!encryptionKey) throw new KeyUnavailableError("OidcProvider.encryptionKey is not set");
    return await secretKeyBytes(encryptionKey, this.deps.env);
  }

  /** Checks a Bearer token that is not an API key (the authenticator's token verifier). */
  verifyAccessToken(token: string): Promise<VerifiedCredential | undefined> {
    return this.tokens.verifyAccess(token);
  }

  /**
   * Authenticates the client of a token, introspection or revocation request (RFC 6749 §2.3):
   * client_secret_basic or client_secret_post for confidential clients, the bare client_id for
   * public ones. Using two methods at once is invalid_request (§2.3, §5.2).
   */
  async authenticateClient(credentials: ClientCredentials): Promise<OAuthClient> {
    const { basic } = credentials;
    if (
      basic &&
      (credentials.clientSecret !== undefined || (credentials.clientId ?? basic.clientId) !== basic.clientId)
    ) {
      throw invalidRequest("Use one client authentication method: the Authorization header or the form");
    }
    const clientId = basic?.clientId ?? credentials.clientId;
    const secret = basic?.secret ?? credentials.clientSecret;
    if (!clientId) throw invalidClient("Client authentication is required (client_id)", false);
    // Before the lookup: a client changed or deleted from here on is not remembered as verified.
    const since = this.clients.epoch();
    const client = await this.clients.byClientId(clientId);
    if (!client) throw invalidClient(`Unknown client "${clientId}"`, basic !== undefined);
    if (client.type === "Public") {
      if (secret !== undefined && secret !== "") {
        throw invalidClient("A public client has no secret; send only client_id", basic !== undefined);
      }
      return client;
    }
    if (secret === undefined) {
      throw invalidClient("This confidential client must authenticate with its secret", basic !== undefined);
    }
    if (!this.clients.secretMatches(client, secret, since)) {
      throw invalidClient("Client authentication failed", basic !== undefined);
    }
    return client;
  }

  /**
   * Whether an administrator stands behind a client: it did not register itself, and its owner, if
   * it has one, is an administrator now. Only such a client gets the admin scope or skips consent.
   */
  async trusted(client: OAuthClient): Promise<boolean> {
    if (client.dynamic) return false;
    if (client.ownerId === null) return true;
    return (await this.deps.accounts.get(client.ownerId))?.roles.includes("admin") ?? false;
  }

  /**
   * Whether the user must approve these scopes for a client: always, except for a client an administrator
   * registered without consent and still stands behind, or when the user already approved them. A
   * remembered consent lasts as long as a grant it led to, or a code it led to can still be redeemed:
   * when the user destroys the last grant (or the client revokes it, or it expires), the consent is
   * withdrawn and the next authorization asks again.
   */
  async needsConsent(client: OAuthClient, accountId: number, scopes: string[]): Promise<boolean> {
    if (!client.requireConsent && await this.trusted(client)) return false;
    const approved = await this.deps.store.oauth.consent(accountId, client.id);
    if (!approved || scopes.some((s) => !approved.scopes.includes(s))) return true;
    const now = Date.now();
    if (now - approved.grantedAt < this.settings.authCodeMs) return false;
    return !(await this.deps.store.oauth.hasUserGrant(accountId, client.id, now));
  }

  /** Remembers a consent (merged with earlier ones). */
  async rememberConsent(client: OAuthClient, accountId: number, scopes: string[]): Promise<void> {
    const approved = (await this.deps.store.oauth.consent(accountId, client.id))?.scopes ?? [];
    await this.deps.store.oauth.putConsent(accountId, client.id, [...new Set([...approved, ...scopes])]);
  }

  /**
   * Publishes a new signing key, which signs once every cached JWKS has been fetched again (see
   * signing_keys.ts), and tells other processes to load it; says which key and from when.
   */
  async rotateSigningKey(): Promise<string> {
    const { kid, signsFrom } = await this.keys.rotate();
    await this.deps.invalidate({ kind: "signingKeys" });
    const at = new Date(signsFrom).toISOString().replace(/\.\d{3}Z$/, "Z");
    return `${kid}, published now and signing from ${at}`;
  }

  /** Removes expired codes, flows, sessions and families. */
  prune(): Promise<number> {
    return this.deps.store.oauth.pruneExpired(Date.now());
  }
}
