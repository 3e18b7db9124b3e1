/**
 * DKIM keys of the local domains: an Ed25519 key (RFC 8463) and an RSA-2048 key (RFC 6376 §3.3.3)
 * per domain, each under a selector naming its kind and month (`pe202612`, `pr202612`; a second
 * pair in the same month gets a letter, `pe202612b`). Keys are made when a domain is created and,
 * for domains that have none (databases from before migration 037, a crash between the domain's
 * insert and its keys), at start: the store keeps one active key per algorithm, so two processes
 * starting at once keep one pair. Rotation retires the active pair (it signs no more, and stays
 * published until the operator deletes it, so mail signed before still verifies) and makes a new one.
 */
import { generateKeyPair } from "node:crypto";
import { promisify } from "node:util";
import type { DkimAlgorithm, DkimKeyRecord, NewDkimKey } from "../store/mod.ts";
import { encodeId } from "../model/ids.ts";
import { ForbiddenError, NotFoundError, type Store } from "./deps.ts";

const generate = promisify(generateKeyPair);

/** Seals private keys under the encryption key (src/oauth/sealer.ts). */
export interface KeySealer {
  seal(text: string): string;
  open(sealed: string): string;
}

/** A key ready to sign. */
export interface SigningKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  /** PKCS #8 PEM. */
  privateKey: string;
}

const PREFIX: Record<DkimAlgorithm, string> = { ed25519: "pe", rsa: "pr" };

/** The DKIM keys of every local domain. */
export class DkimKeyService {
  constructor(
    private readonly store: Store,
    private readonly sealer: KeySealer,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every key, by domain then age. */
  list(): Promise<DkimKeyRecord[]> {
    return this.store.dkimKeys.list();
  }

  /** A key by id. */
  get(id: number): Promise<DkimKeyRecord | undefined> {
    return this.store.dkimKeys.get(id);
  }

  /** The keys of a domain (active and retired), oldest first: what DNS publishes. */
  ofDomain(domainId: number): Promise<DkimKeyRecord[]> {
    return this.store.dkimKeys.ofDomain(domainId);
  }

  /** Gives `domainId` a key of each algorithm it lacks; how many keys were made. */
  async ensure(domainId: number): Promise<number> {
    const keys = await this.store.dkimKeys.ofDomain(domainId);
    const missing = (["ed25519", "rsa"] as const).filter((a) =>
      !keys.some((k) => k.active && k.algorithm === a)
    );
    if (!missing.length) return 0;
    const taken = new Set(keys.map((k) => k.selector));
    const made = await Promise.all(missing.map((a) => this.#make(a, taken)));
    return await this.store.dkimKeys.addIfAbsent(domainId, made, this.now());
  }

  /** Gives every domain without keys its pair (at start); how many keys were made. */
  async ensureAll(): Promise<number> {
    let made = 0;
    for (const id of await this.store.dkimKeys.domainsWithoutKeys()) made += await this.ensure(id);
    return made;
  }

  /** Retires the active keys of `domainId` and makes a new pair; the new keys. */
  async rotate(domainId: number): Promise<DkimKeyRecord[]> {
    const keys = await this.store.dkimKeys.ofDomain(domainId);
    const taken = new Set(keys.map((k) => k.selector));
    const made = [await this.#make("ed25519", taken), await this.#make("rsa", taken)];
    await this.store.dkimKeys.rotate(domainId, made, this.now());
    const after = await this.store.dkimKeys.ofDomain(domainId);
    return after.filter((k) => made.some((m) => m.selector === k.selector));
  }

  /** Deletes a retired key; an active key is refused (rotate first), an unknown one is notFound. */
  async deleteRetired(id: number): Promise<DkimKeyRecord> {
    const key = await this.store.dkimKeys.get(id);
    if (!key) throw new NotFoundError("DkimKey", encodeId(id));
    if (key.active || !await this.store.dkimKeys.deleteRetired(id)) {
      throw new ForbiddenError(
        `Cannot delete DKIM key "${key.selector}": it signs the domain's mail; rotate the keys first`,
      );
    }
    return key;
  }

  /** The active keys of the domain named `domain` (case-insensitive), opened; none for a foreign domain. */
  async signingKeys(domain: string): Promise<SigningKey[]> {
    const found = await this.store.domains.getByName(domain.toLowerCase());
    if (!found) return [];
    return (await this.store.dkimKeys.ofDomain(found.id)).filter((k) => k.active).map((k) => ({
      domain: found.name,
      selector: k.selector,
      algorithm: k.algorithm,
      privateKey: this.sealer.open(k.privateKeySealed),
    }));
  }

  async #make(algorithm: DkimAlgorithm, taken: Set<string>): Promise<NewDkimKey> {
    const month = new Date(this.now()).toISOString().slice(0, 7).replace("-", "");
    let selector = `${PREFIX[algorithm]}${month}`;
    for (let n = 1; taken.has(selector); n++) selector = `${PREFIX[algorithm]}${month}${suffix(n)}`;
    taken.add(selector);
    const pair = algorithm === "rsa"
      ? await generate("rsa", { modulusLength: 2048 })
      : await generate("ed25519", {});
    const spki = pair.publicKey.export({ type: "spki", format: "der" });
    // RFC 8463 §4.2: the Ed25519 p= is the bare 32-byte key; RSA's is the SubjectPublicKeyInfo.
    const publicKey = (algorithm === "ed25519" ? spki.subarray(spki.length - 32) : spki).toString("base64");
    const privateKey = String(pair.privateKey.export({ type: "pkcs8", format: "pem" }));
    return { selector, algorithm, publicKey, privateKeySealed: this.sealer.seal(privateKey) };
  }
}

/** The suffix of the n-th extra pair of a month: 1 → "b" … 25 → "z", then "n26", "n27"… */
function suffix(n: number): string {
  return n < 26 ? String.fromCharCode(97 + n) : `n${n}`;
}

/** The TXT record data of a key (RFC 6376 §3.6.1), before splitting into strings. */
export function dkimRecordText(key: Pick<DkimKeyRecord, "algorithm" | "publicKey">): string {
  return `v=DKIM1; k=${key.algorithm}; p=${key.publicKey}`;
}
