/**
 * ID-token signing keys: one current key of the configured algorithm (RS256 by default, ES256 or
 * EdDSA), published with its `kid` in the JWKS. A new key (a rotation, or a change of algorithm) is
 * published at once but signs only `NEXT_KEY_DELAY_MS` later, so every relying party that cached the
 * JWKS has fetched it again and knows the key before it sees a token signed with it. The key it
 * replaces retires then and stays published as long as a token signed with it can be presented (an
 * ID token as a logout hint, for as long as the refresh tokens of its sign-in live). Private keys are
 * stored sealed under the server key. Which key signs is a matter of the clock alone: nothing has
 * to happen when a key's time comes.
 */
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from "jose";
import type { SigningKey, Store } from "./deps.ts";
import { type Sealer, textSealer } from "./sealer.ts";

const SEAL_CONTEXT = "postern 2026-11 signing key seal";

/** How long a relying party or a shared cache may keep the JWKS (its Cache-Control max-age). */
export const JWKS_MAX_AGE_SECONDS = 300;

/**
 * How long a new key is published before it signs: twice the JWKS max-age, which also covers
 * libraries that keep a JWKS for their own fixed time (jose's remote JWKS keeps it ten minutes).
 */
export const NEXT_KEY_DELAY_MS = 2 * JWKS_MAX_AGE_SECONDS * 1000;

interface CurrentKey {
  kid: string;
  alg: string;
  key: CryptoKey;
}

/** What was loaded, and until when it holds (the next time a key starts signing or leaves the JWKS). */
interface Loaded<T> {
  value: Promise<T>;
  until: number;
}

/** The signing keys of the provider. */
export class SigningKeys {
  #current: Loaded<CurrentKey> | undefined;
  #jwks: Loaded<{ keys: JWK[] }> | undefined;
  readonly #sealer: Sealer;
  readonly #now: () => number;

  constructor(
    private readonly store: Store,
    serverKey: Uint8Array,
    private readonly options: {
      algorithm: () => string;
      /** How long a retired public key stays published (ms): the longest life of a signed token. */
      keepRetiredMs: () => number;
      /** The clock (ms); tests pass their own. */
      now?: () => number;
    },
  ) {
    this.#sealer = textSealer(serverKey, SEAL_CONTEXT);
    this.#now = options.now ?? Date.now;
  }

  /** Forgets what was loaded (another process rotated, or the algorithm changed). */
  reload(): void {
    this.#current = undefined;
    this.#jwks = undefined;
  }

  /** Signs a JWT with the current key. */
  async sign(payload: JWTPayload, header: { typ?: string } = {}): Promise<string> {
    const { kid, alg, key } = await this.current();
    return await new SignJWT(payload).setProtectedHeader({ alg, kid, ...header }).sign(key);
  }

  /** Verifies a JWT signed by one of the published keys (expiry not checked: logout hints may be old). */
  async verify(jwt: string, issuer: string): Promise<JWTPayload | undefined> {
    try {
      const { payload } = await jwtVerify(jwt, createLocalJWKSet(await this.jwks()), {
        issuer,
        currentDate: new Date(0),
        clockTolerance: Number.MAX_SAFE_INTEGER,
      });
      return payload;
    } catch {
      return undefined;
    }
  }

  /** The public keys: the next one (not signing yet), the current one, and retired ones still kept. */
  jwks(): Promise<{ keys: JWK[] }> {
    const now = this.#now();
    if (this.#jwks && now < this.#jwks.until) return this.#jwks.value;
    const loaded: Loaded<{ keys: JWK[] }> = { value: Promise.resolve({ keys: [] }), until: Infinity };
    loaded.value = (async () => {
      await this.current();
      const keep = this.options.keepRetiredMs();
      const published = (await this.store.oauth.signingKeys())
        .filter((k) => k.retiredAt === null || k.retiredAt + keep > now);
      // Held until the first published key's keep time ends.
      for (const k of published) {
        if (k.retiredAt !== null) loaded.until = Math.min(loaded.until, k.retiredAt + keep);
      }
      return { keys: published.reverse().map((k) => JSON.parse(k.publicJwk) as JWK) };
    })().catch((error) => {
      this.#jwks = undefined;
      throw error;
    });
    this.#jwks = loaded;
    return loaded.value;
  }

  /**
   * Makes a new key of the configured algorithm, published now and signing from `NEXT_KEY_DELAY_MS`
   * on, when the keys it follows retire; returns its kid and that time.
   */
  async rotate(): Promise<{ kid: string; signsFrom: number }> {
    await this.current();
    const signsFrom = this.#now() + NEXT_KEY_DELAY_MS;
    const created = await this.create(signsFrom);
    await this.store.oauth.deleteSigningKeysRetiredBefore(this.#now() - this.options.keepRetiredMs());
    this.reload();
    return { kid: created.kid, signsFrom };
  }

  private current(): Promise<CurrentKey> {
    const now = this.#now();
    if (this.#current && now < this.#current.until) return this.#current.value;
    const loaded: Loaded<CurrentKey> = { value: Promise.resolve(undefined as never), until: Infinity };
    loaded.value = this.loadOrCreate(now, (until) => loaded.until = until).catch((error) => {
      this.#current = undefined;
      throw error;
    });
    this.#current = loaded;
    return loaded.value;
  }

  /**
   * The key that signs at `now`: the latest whose time has come and that has not retired. The first
   * key of all signs at once (nobody can hold a JWKS yet); a change of algorithm is published first,
   * like a rotation, while the current key goes on signing.
   */
  private async loadOrCreate(now: number, holdUntil: (until: number) => void): Promise<CurrentKey> {
    const alg = this.options.algorithm();
    const keys = await this.store.oauth.signingKeys();
    const signing = keys.filter((k) => k.activatesAt <= now && (k.retiredAt === null || k.retiredAt > now))
      .pop();
    if (!signing) return await this.create(now);
    const next = keys.filter((k) => k.activatesAt > now);
    if (signing.alg !== alg && !next.some((k) => k.alg === alg)) {
      next.push(await this.storeKey(await this.newKey(alg), now + NEXT_KEY_DELAY_MS));
    }
    // Loaded again when the next key starts signing (the current one retires then).
    holdUntil(Math.min(...next.map((k) => k.activatesAt), signing.retiredAt ?? Infinity));
    return await this.open(signing);
  }

  /** A new key of the configured algorithm signing from `activatesAt`; the others retire then. */
  private async create(activatesAt: number): Promise<CurrentKey> {
    const made = await this.newKey(this.options.algorithm());
    await this.storeKey(made, activatesAt);
    return made.current;
  }

  private async newKey(alg: string) {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    return {
      current: { kid, alg, key: privateKey as CryptoKey },
      row: {
        kid,
        alg,
        privateJwk: this.#sealer.seal(JSON.stringify({ ...privateJwk, kid, alg })),
        publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: "sig" }),
      },
    };
  }

  private async storeKey(
    made: Awaited<ReturnType<SigningKeys["newKey"]>>,
    activatesAt: number,
  ): Promise<SigningKey> {
    const row = { ...made.row, createdAt: this.#now(), activatesAt, retiredAt: null };
    const id = await this.store.transaction(async () => {
      const id = await this.store.oauth.insertSigningKey(row);
      await this.store.oauth.retireSigningKeys(id, activatesAt);
      return id;
    });
    this.#jwks = undefined;
    return { id, ...row };
  }

  private async open(stored: SigningKey): Promise<CurrentKey> {
    const jwk = JSON.parse(this.#sealer.open(stored.privateJwk)) as JWK;
    return { kid: stored.kid, alg: stored.alg, key: await importJWK(jwk, stored.alg) as CryptoKey };
  }
}
