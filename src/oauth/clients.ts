/**
 * Registered OAuth clients: the `OAuthClient` management type (administrators register and change
 * clients; an owner reads and deletes its own) and client authentication at the token endpoint
 * (secrets as keyed hashes, compared in constant time). Every way in (management, the CLI, the TUI,
 * dynamic registration) goes through `create` and `update`, so their rules hold on every path: no
 * name that copies another client's, and the admin scope only for clients of administrators.
 */
import type { AccountService, Caller, ObjectHandler, WireObject } from "../directory/mod.ts";
import { isAdmin } from "../directory/mod.ts";
import {
  decodeId,
  encodeId,
  ForbiddenError,
  type GrantType,
  type InvalidationEvent,
  InvalidInputError,
  NotFoundError,
  type OAuthClient,
  type Store,
  toKeyedList,
} from "./deps.ts";
import { ADMIN_SCOPE, clientNameKey } from "./client_rules.ts";
import { blake3Hash } from "./blake3.ts";
import { toBase64Url } from "./token_codec.ts";

/** A client as the provider needs it, by row id or client_id. */
export interface ClientLookup {
  byId(id: number): Promise<OAuthClient | undefined>;
  byClientId(clientId: string): Promise<OAuthClient | undefined>;
}

/** Input of a new or changed client (wire values already checked by the declaration). */
type ClientFields = Omit<OAuthClient, "id" | "createdAt" | "updatedAt">;

/** The OAuthClient service. */
export class ClientService implements ClientLookup {
  readonly #byId = new Map<number, OAuthClient | null>();
  readonly #idByClientId = new Map<string, number>();
  /**
   * Moves on every forget: a lookup stores what it read only if no forget ran while it read, so a
   * client changed or deleted meanwhile is not remembered as it was (see src/cache/bounded_cache.ts).
   */
  #epoch = 0;
  /**
   * The secret each confidential client last authenticated with, as a BLAKE3 digest under a key of
   * this process (never the secret itself), and the stored keyed hash it matched. A confidential
   * client sends the same secret on every token request: checking it again costs a keyed hash
   * (HMAC-SHA256 through WebAssembly, 8× the digest's time). An entry counts only while the client's
   * stored hash is the one it matched, and goes with the client's invalidation (forget).
   */
  readonly #verified = new Map<number, { secretHash: string; digest: Uint8Array }>();
  readonly #digestInput = new Uint8Array(DIGEST_KEY_BYTES + 4 * MAX_CACHED_SECRET);

  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly keyedHash: (secret: string) => string,
    /** Records a write's invalidation (appended to the log and applied here). */
    private readonly invalidate: (event: InvalidationEvent) => Promise<void>,
  ) {
    crypto.getRandomValues(this.#digestInput.subarray(0, DIGEST_KEY_BYTES));
  }

  /** The invalidation epoch: taken before a client is looked up, for `secretMatches`. */
  epoch(): number {
    return this.#epoch;
  }

  /** Drops a cached client (another process changed it). */
  forget(id?: number): void {
    this.#epoch++;
    if (id === undefined) {
      this.#byId.clear();
      this.#idByClientId.clear();
      this.#verified.clear();
    } else {
      this.#byId.delete(id);
      this.#verified.delete(id);
      for (const [clientId, rowId] of this.#idByClientId) {
        if (rowId === id) this.#idByClientId.delete(clientId);
      }
    }
  }

  async byId(id: number): Promise<OAuthClient | undefined> {
    const cached = this.#byId.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const since = this.#epoch;
    const client = await this.store.oauth.client(id);
    if (since === this.#epoch) this.#byId.set(id, client ?? null);
    return client;
  }

  async byClientId(clientId: string): Promise<OAuthClient | undefined> {
    const id = this.#idByClientId.get(clientId);
    if (id !== undefined) return await this.byId(id);
    const since = this.#epoch;
    const client = await this.store.oauth.clientByClientId(clientId);
    // Only found clients are remembered: an unknown client_id must not fill the cache.
    if (client && since === this.#epoch) {
      if (this.#idByClientId.size >= 10_000) this.#idByClientId.clear();
      this.#idByClientId.set(clientId, client.id);
      this.#byId.set(client.id, client);
    }
    return client;
  }

  /**
   * Whether `secret` is the client's secret (constant time in the secret). A secret that matched is
   * remembered (see #verified) unless the client was forgotten since `since`, an {@link epoch} taken
   * before `client` was looked up: a client deleted or changed meanwhile is not vouched for by it.
   */
  secretMatches(client: OAuthClient, secret: string, since?: number): boolean {
    const stored = client.secretHash;
    if (!stored) return false;
    const digest = this.secretDigest(secret);
    const known = this.#verified.get(client.id);
    if (digest && known && known.secretHash === stored && sameDigest(known.digest, digest)) return true;
    // Both sides are hex digests of equal length: compare every character, without an early exit.
    const given = this.keyedHash(secret);
    let diff = given.length ^ stored.length;
    for (let i = 0; i < stored.length; i++) diff |= given.charCodeAt(i) ^ stored.charCodeAt(i);
    if (diff !== 0) return false;
    if (digest && since === this.#epoch) {
      if (this.#verified.size >= 10_000) this.#verified.clear();
      this.#verified.set(client.id, { secretHash: stored, digest });
    }
    return true;
  }

  /** BLAKE3 of this process's random key and the secret; undefined for a secret too long to keep. */
  private secretDigest(secret: string): Uint8Array | undefined {
    if (secret.length > MAX_CACHED_SECRET) return undefined;
    const input = this.#digestInput;
    const { written } = utf8.encodeInto(secret, input.subarray(DIGEST_KEY_BYTES));
    return blake3Hash(input.subarray(0, DIGEST_KEY_BYTES + written));
  }

  /** Creates a client; a confidential client's secret is returned once. */
  async create(fields: ClientFields): Promise<{ client: OAuthClient; secret?: string }> {
    await this.checkFields(fields);
    const secret = fields.type === "Confidential" ? newSecret() : undefined;
    const id = await this.store.transaction(async () => {
      // In the transaction that inserts: two registrations at once cannot both take a name.
      if (await this.store.oauth.clientByClientId(fields.clientId)) {
        throw new InvalidInputError(`Cannot create client "${fields.clientId}": that client_id is taken`, [
          { property: "clientId", message: `"${fields.clientId}" is already registered` },
        ]);
      }
      await this.checkNameFree(fields.name);
      const id = await this.store.oauth.insertClient({
        ...fields,
        secretHash: secret ? this.keyedHash(secret) : null,
      });
      await this.store.changes.append([
        { type: "OAuthClient", objectId: id, kind: "created", accountId: null, ownerId: fields.ownerId },
      ]);
      return id;
    });
    return { client: (await this.store.oauth.client(id))!, secret };
  }

  /** Changes a client; its secret and client_id stay. */
  async update(id: number, fields: ClientFields): Promise<OAuthClient> {
    await this.checkFields(fields);
    await this.store.transaction(async () => {
      const before = await this.store.oauth.client(id);
      if (before && clientNameKey(before.name) !== clientNameKey(fields.name)) {
        await this.checkNameFree(fields.name, id);
      }
      await this.store.oauth.updateClient(id, fields);
      await this.store.changes.append([
        { type: "OAuthClient", objectId: id, kind: "updated", accountId: null, ownerId: fields.ownerId },
      ]);
    });
    await this.invalidate({ kind: "oauthClient", clientId: id });
    return (await this.store.oauth.client(id))!;
  }

  /** Deletes a client and, by cascade, every grant, code and token family it holds. */
  async delete(client: OAuthClient): Promise<void> {
    await this.store.transaction(async () => {
      await this.store.oauth.deleteClient(client.id);
      await this.store.changes.append([
        {
          type: "OAuthClient",
          objectId: client.id,
          kind: "destroyed",
          accountId: null,
          ownerId: client.ownerId,
        },
      ]);
    });
    await this.invalidate({ kind: "oauthClient", clientId: client.id });
  }

  /** Refuses a name that reads as another client's (see `clientNameKey`), so no client passes for another. */
  private async checkNameFree(name: string, self?: number): Promise<void> {
    const key = clientNameKey(name);
    const taken = (await this.store.oauth.listClients()).find((c) =>
      c.id !== self && clientNameKey(c.name) === key
    );
    if (taken) {
      throw new InvalidInputError(
        `Cannot name a client "${name}": client "${taken.clientId}" is named "${taken.name}"`,
        [
          { property: "name", message: `"${taken.name}" is already the name of a client` },
        ],
      );
    }
  }

  private async checkFields(fields: ClientFields): Promise<void> {
    if (fields.dynamic && !fields.requireConsent) {
      throw new InvalidInputError("A client that registered itself always asks for consent", [
        { property: "requireConsent", message: "must be true for a dynamically registered client" },
      ]);
    }
    if (fields.grantTypes.includes("client_credentials")) {
      if (fields.type !== "Confidential") {
        throw new InvalidInputError("Only a confidential client can use client_credentials", [
          { property: "grantTypes", message: "client_credentials needs a confidential client" },
        ]);
      }
      if (fields.ownerId === null) {
        throw new InvalidInputError("A client_credentials client needs an owner account to act as", [
          { property: "ownerId", message: "required with client_credentials" },
        ]);
      }
    }
    const owner = fields.ownerId === null ? undefined : await this.accounts.get(fields.ownerId);
    if (fields.ownerId !== null && !owner) {
      throw new InvalidInputError(`Owner account ${encodeId(fields.ownerId)} does not exist`, [
        { property: "ownerId", message: "no such account" },
      ]);
    }
    // A client's scopes never exceed what its owner may grant: management tokens are for clients of
    // administrators (or of the server itself), never for one that registered itself.
    if (fields.scopes.includes(ADMIN_SCOPE)) {
      if (fields.dynamic) {
        throw new InvalidInputError(`A client that registers itself cannot ask for ${ADMIN_SCOPE}`, [
          { property: "scopes", message: `${ADMIN_SCOPE} is only for clients an administrator registers` },
        ]);
      }
      if (owner && !owner.roles.includes("admin")) {
        throw new InvalidInputError(
          `Client "${fields.clientId}" cannot have the scope ${ADMIN_SCOPE}: its owner "${owner.name}" is not an administrator`,
          [{ property: "scopes", message: `${ADMIN_SCOPE} needs an owner who is an administrator` }],
        );
      }
    }
    const needsRedirect = fields.grantTypes.includes("authorization_code");
    if (needsRedirect && fields.redirectUris.length === 0) {
      throw new InvalidInputError("An authorization_code client needs at least one redirect URI", [
        { property: "redirectUris", message: "at least one is required for authorization_code" },
      ]);
    }
  }

  /** The management handler of `OAuthClient` objects. */
  handler(): ObjectHandler {
    const visible = async (id: number, wireId: string, caller: Caller) => {
      const client = await this.byId(id);
      if (!client || !(isAdmin(caller) || client.ownerId === (caller as { accountId: number }).accountId)) {
        throw new NotFoundError("OAuthClient", wireId);
      }
      return client;
    };
    return {
      create: async (value, variant, caller) => {
        requireAdmin(caller, "register OAuth clients");
        // Acting on the database directly, a client without ownerId has no owner (fine unless it
        // needs one for client_credentials, which the checks below refuse by name).
        const ownerId = value.ownerId
          ? decodeId(String(value.ownerId))!
          : caller === "system"
          ? null
          : caller.accountId;
        const { client, secret } = await this.create({
          clientId: typeof value.clientId === "string" ? value.clientId : generatedClientId(),
          name: String(value.name),
          type: variant === "Public" ? "Public" : "Confidential",
          secretHash: null,
          ownerId,
          redirectUris: (value.redirectUris as string[] | undefined) ?? [],
          postLogoutRedirectUris: (value.postLogoutRedirectUris as string[] | undefined) ?? [],
          grantTypes: (value.grantTypes as GrantType[] | undefined) ??
            ["authorization_code", "refresh_token"],
          scopes: (value.scopes as string[] | undefined) ??
            ["openid", "profile", "email", "offline_access", "urn:ietf:params:jmap:mail"],
          requireConsent: (value.requireConsent as boolean | undefined) ?? true,
          dynamic: false,
          resourceServer: (value.resourceServer as boolean | undefined) ?? false,
          description: (value.description as string | null | undefined) ?? null,
        });
        return secret ? { ...clientToWire(client), secret } : clientToWire(client);
      },
      get: async (id, wireId, caller) => clientToWire(await visible(id, wireId, caller)),
      list: async (caller) =>
        (await this.store.oauth.listClients(isAdmin(caller) ? undefined : callerId(caller))).map(
          clientToWire,
        ),
      update: async (id, value, caller) => {
        const client = await visible(id, encodeId(id), caller);
        requireAdmin(caller, "change OAuth clients");
        const next: ClientFields = { ...client };
        for (const key of Object.keys(value) as (keyof ClientFields)[]) {
          (next as unknown as Record<string, unknown>)[key] = key === "ownerId"
            ? decodeId(String(value.ownerId))
            : value[key];
        }
        return clientToWire(await this.update(id, next));
      },
      delete: async (id, wireId, caller) => {
        const client = await visible(id, wireId, caller);
        await this.delete(client);
        return clientToWire(client);
      },
    };
  }
}

/**
 * Registering and changing clients through management is for administrators: a client decides what
 * its users are asked (consent) and which tokens it may get, so a plain user's client would be a
 * phishing page with the server's name on it.
 */
function requireAdmin(caller: Caller, action: string): void {
  if (!isAdmin(caller)) throw new ForbiddenError(`Only an administrator can ${action}`);
}

function callerId(caller: Caller): number {
  if (caller === "system") {
    throw new InvalidInputError("ownerId is required when acting on the database directly", [
      { property: "ownerId", message: "required in local mode" },
    ]);
  }
  return caller.accountId;
}

/** A client in wire form (no secret). */
export function clientToWire(client: OAuthClient): WireObject {
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    id: encodeId(client.id),
    "@type": client.type,
    clientId: client.clientId,
    name: client.name,
    description: client.description,
    redirectUris: toKeyedList(client.redirectUris),
    postLogoutRedirectUris: toKeyedList(client.postLogoutRedirectUris),
    grantTypes: toKeyedList(client.grantTypes),
    scopes: toKeyedList(client.scopes),
    ownerId: client.ownerId === null ? null : encodeId(client.ownerId),
    requireConsent: client.requireConsent,
    resourceServer: client.resourceServer,
    createdAt: iso(client.createdAt),
    updatedAt: iso(client.updatedAt),
  };
}

/** The random key of the verified-secret digests. */
const DIGEST_KEY_BYTES = 32;
/** Longest secret remembered once verified (ours are 43 characters; longer ones are checked each time). */
const MAX_CACHED_SECRET = 256;
const utf8 = new TextEncoder();

/** A new random client secret (256 bits, base64url). */
export function newSecret(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** A new random client_id. */
export function generatedClientId(): string {
  return `client-${toBase64Url(crypto.getRandomValues(new Uint8Array(9)))}`;
}

/**
 * Whether two digests are equal, in time that depends on their length only (node:crypto's
 * timingSafeEqual through Deno's Node layer was about 1% of a token grant's main-thread time).
 */
function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
