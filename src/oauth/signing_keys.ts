/**
 * ID-token signing keys: one current key of the configured algorithm (RS256 by default, ES256 or
 * EdDSA), published with its `kid` in the JWKS; after a rotation the old public keys stay published
 * as long as a token signed with them can be presented (an ID token as a logout hint, for as long as
 * the refresh tokens of its sign-in live). Private keys are stored sealed under the server key.
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

interface CurrentKey {
  kid: string;
  alg: string;
  key: CryptoKey;
}

/** The signing keys of the provider. */
export class SigningKeys {
  #current: Promise<CurrentKey> | undefined;
  #jwks: Promise<{ keys: JWK[] }> | undefined;
  readonly #sealer: Sealer;

  constructor(
    private readonly store: Store,
    serverKey: Uint8Array,
    private readonly options: {
      algorithm: () => string;
      /** How long a retired public key stays published (ms): the longest life of a signed token. */
      keepRetiredMs: () => number;
    },
  ) {
    this.#sealer = textSealer(serverKey, SEAL_CONTEXT);
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

  /** The public keys: the current one and the retired ones still within their keep time. */
  jwks(): Promise<{ keys: JWK[] }> {
    return this.#jwks ??= (async () => {
      await this.current();
      const since = Date.now() - this.options.keepRetiredMs();
      const keys = (await this.store.oauth.signingKeys())
        .filter((k) => k.retiredAt === null || k.retiredAt >= since)
        .reverse()
        .map((k) => JSON.parse(k.publicJwk) as JWK);
      return { keys };
    })().catch((error) => {
      this.#jwks = undefined;
      throw error;
    });
  }

  /** Makes a new current key (of the configured algorithm) and retires the others; returns its kid. */
  async rotate(): Promise<string> {
    const created = await this.create();
    const since = Date.now() - this.options.keepRetiredMs();
    await this.store.oauth.deleteSigningKeysRetiredBefore(since);
    this.reload();
    return created.kid;
  }

  private current(): Promise<CurrentKey> {
    return this.#current ??= this.loadOrCreate().catch((error) => {
      this.#current = undefined;
      throw error;
    });
  }

  private async loadOrCreate(): Promise<CurrentKey> {
    const alg = this.options.algorithm();
    const active = (await this.store.oauth.signingKeys()).filter((k) => k.retiredAt === null).pop();
    if (active && active.alg === alg) return await this.open(active);
    return await this.create();
  }

  private async create(): Promise<CurrentKey> {
    const alg = this.options.algorithm();
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    await this.store.transaction(async () => {
      const id = await this.store.oauth.insertSigningKey({
        kid,
        alg,
        privateJwk: this.#sealer.seal(JSON.stringify({ ...privateJwk, kid, alg })),
        publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: "sig" }),
        createdAt: Date.now(),
        retiredAt: null,
      });
      await this.store.oauth.retireSigningKeys(id, Date.now());
    });
    this.#jwks = undefined;
    return { kid, alg, key: privateKey as CryptoKey };
  }

  private async open(stored: SigningKey): Promise<CurrentKey> {
    const jwk = JSON.parse(this.#sealer.open(stored.privateJwk)) as JWK;
    return { kid: stored.kid, alg: stored.alg, key: await importJWK(jwk, stored.alg) as CryptoKey };
  }
}
