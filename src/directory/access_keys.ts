import { type AccountService, changed } from "./accounts.ts";
import {
  type Credential,
  encodeId,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  QuotaError,
  type Store,
  UnavailableError,
} from "./deps.ts";

/** Kinds of server-generated secret. */
export type AccessKeyType = "AppPassword" | "ApiKey";

/** Prefix that marks an API key in a Bearer header, so it is never confused with an OAuth token. */
export const API_KEY_PREFIX = "pst_";

/** A newly created key with its secret, which is shown this once and never stored in clear. */
export interface CreatedAccessKey {
  credential: Credential;
  secret: string;
}

/** How secrets are hashed for storage and lookup (a keyed hash: they are high-entropy). */
export interface SecretHashing {
  keyedHash(secret: string): string;
}

const QUOTA_FIELD = { AppPassword: "maxAppPasswords", ApiKey: "maxApiKeys" } as const;

/** App passwords and API keys: generated here, stored as keyed hashes, revocable one by one. */
export class AccessKeyService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly hashing: SecretHashing,
  ) {}

  /** Creates a key for an account; the secret is returned once. */
  async create(
    type: AccessKeyType,
    accountId: number,
    input: { description: string; expiresAt?: number | null },
  ): Promise<CreatedAccessKey> {
    const account = await this.accounts.require(accountId);
    const what = type === "ApiKey" ? "API key" : "app password";
    if (account.type !== "User") {
      throw new ForbiddenError(`Cannot create an ${what} for group "${account.name}"`);
    }
    if (input.expiresAt != null && input.expiresAt <= Date.now()) {
      throw new InvalidInputError(`Cannot create ${what}: expiresAt is in the past`, [
        { property: "expiresAt", message: "must be in the future" },
      ]);
    }
    const limit = account.quotas[QUOTA_FIELD[type]];
    const secret = generateSecret(type);
    const id = await this.accounts.write(async () => {
      const existing = await this.store.credentials.listByAccount(accountId, type);
      if (limit !== undefined && existing.length >= limit) {
        throw new QuotaError(
          `Cannot create ${what} for "${account.name}": the limit of ${limit} (${
            QUOTA_FIELD[type]
          }) is reached`,
        );
      }
      const id = await this.store.credentials.insert({
        accountId,
        type,
        description: input.description,
        hash: this.hashing.keyedHash(secret),
        expiresAt: input.expiresAt ?? null,
      });
      return { result: id, events: [], changes: [changed(type, id, "created", accountId)] };
    });
    return { credential: (await this.store.credentials.get(id))!, secret };
  }

  /** Keys of an account. */
  list(type: AccessKeyType, accountId: number): Promise<Credential[]> {
    return this.store.credentials.listByAccount(accountId, type);
  }

  /** One key, if it exists and is of that type. */
  async get(type: AccessKeyType, id: number): Promise<Credential | undefined> {
    const credential = await this.store.credentials.get(id);
    return credential?.type === type ? credential : undefined;
  }

  /** Every key of that type in the directory (admin listing). */
  async listAll(type: AccessKeyType): Promise<Credential[]> {
    const out: Credential[] = [];
    for (const accountId of await this.store.accounts.query({})) {
      out.push(...await this.store.credentials.listByAccount(accountId, type));
    }
    return out;
  }

  /** Revokes a key; the next request using it is refused. */
  async delete(type: AccessKeyType, id: number): Promise<Credential> {
    const credential = await this.get(type, id);
    if (!credential) throw new NotFoundError(type, encodeId(id));
    await this.accounts.write(async () => {
      await this.store.credentials.delete(id);
      if (type === "ApiKey") await this.store.credentials.noteRevokedKeys([credential.hash], Date.now());
      return {
        result: id,
        events: [{ kind: "credentials", accountId: credential.accountId }],
        changes: [changed(type, id, "destroyed", credential.accountId)],
      };
    });
    return credential;
  }

  /** The key matching a presented secret, if it exists and has not expired. */
  async find(type: AccessKeyType, secret: string, now = Date.now()): Promise<Credential | undefined> {
    const credential = await this.identify(type, secret);
    if (credential?.expiresAt != null && credential.expiresAt <= now) return undefined;
    return credential;
  }

  /**
   * The key matching a presented secret, expired or not: the authenticator tells a key that expired
   * (no guess) from one that never existed.
   */
  async identify(type: AccessKeyType, secret: string): Promise<Credential | undefined> {
    const credential = await this.store.credentials.findByKeyHash(this.hashing.keyedHash(secret));
    return credential?.type === type ? credential : undefined;
  }

  /** Whether a presented API key is one that was revoked (rather than a guess). */
  wasRevoked(secret: string): Promise<boolean> {
    return this.store.credentials.wasRevoked(this.hashing.keyedHash(secret));
  }

  /** Records a successful use (at most once a minute per key, to keep logins write-free). */
  async touch(credential: Credential, now = Date.now()): Promise<void> {
    if (credential.lastUsedAt !== null && now - credential.lastUsedAt < 60_000) return;
    try {
      await this.store.credentials.touch(credential.id, now);
    } catch (error) {
      // Only a "last used" stamp: a database held by another process must not turn a read into a 503.
      if (!(error instanceof UnavailableError)) throw error;
    }
  }
}

const BASE32 = "abcdefghijkmnpqrstuvwxyz23456789";

/**
 * API keys: `pst_` + 32 random base32 characters (160 bits). App passwords: four groups of five
 * characters without look-alike letters (100 bits), easy to type into a mail client.
 */
function generateSecret(type: AccessKeyType): string {
  const bytes = crypto.getRandomValues(new Uint8Array(type === "ApiKey" ? 32 : 20));
  const chars = [...bytes].map((b) => BASE32[b & 31]).join("");
  return type === "ApiKey" ? API_KEY_PREFIX + chars : chars.match(/.{5}/g)!.join("-");
}
