/**
 * Push subscriptions (RFC 8620 §7.2) of a user: a device's URL where StateChange pushes are POSTed,
 * optionally encrypted with its RFC 8291 keys. A new subscription gets a verification code pushed to
 * its URL; only when the client sends that code back do pushes start. Subscriptions live at most
 * PUSH_LIMITS.maxExpiry (a later `expires` is shortened, as the RFC allows) and a user has at most
 * PUSH_LIMITS.maxPerAccount of them.
 */
import type { PushSubscriptionRecord } from "../store/mod.ts";
import {
  base64urlBytes,
  invalidProperty,
  NotFoundError,
  type Principal,
  RuleError,
  type Store,
} from "./deps.ts";

/** Limits of push subscriptions. */
export const PUSH_LIMITS = {
  maxPerAccount: 50,
  /** Longest life of a subscription, in ms. */
  maxExpiry: 7 * 24 * 3600 * 1000,
  maxUrlLength: 2048,
};

/** What a client gives to create a subscription. */
export interface PushSubscriptionInput {
  deviceClientId: string;
  url: string;
  keys: { p256dh: string; auth: string } | null;
  expires: number | null;
  types: string[] | null;
}

/** What a client may change. */
export interface PushSubscriptionChanges {
  verificationCode?: string | null;
  expires?: number | null;
  types?: string[] | null;
}

/** A user's push subscriptions. */
export class PushSubscriptionService {
  /** Called after a subscription is created, changed or destroyed (the sender re-reads them). */
  onChange: (created?: PushSubscriptionRecord) => void = () => {};

  constructor(private readonly store: Store) {}

  /** The user's subscriptions. */
  list(accountId: number): Promise<PushSubscriptionRecord[]> {
    return this.store.pushSubscriptions.list(accountId);
  }

  /** Verified subscriptions of everyone that have not expired. */
  active(now = Date.now()): Promise<PushSubscriptionRecord[]> {
    return this.store.pushSubscriptions.active(now);
  }

  /**
   * Creates a subscription of the caller's, unverified, with a fresh verification code, tied to the
   * credential the caller used: when it is changed, deleted, revoked or expires, the subscription goes.
   */
  async create(caller: Principal, input: PushSubscriptionInput): Promise<PushSubscriptionRecord> {
    const accountId = caller.accountId;
    const now = Date.now();
    const deviceClientId = input.deviceClientId.trim();
    if (!deviceClientId || deviceClientId.length > 255) {
      throw invalidProperty("deviceClientId", "must be a non-empty string of at most 255 characters");
    }
    checkUrl(input.url);
    if (input.keys) checkKeys(input.keys);
    const expires = this.expiry(input.expires, now);
    if ((await this.list(accountId)).length >= PUSH_LIMITS.maxPerAccount) {
      throw new RuleError(
        "forbidden",
        `At most ${PUSH_LIMITS.maxPerAccount} push subscriptions per user; destroy one you no longer use`,
      );
    }
    const record: Omit<PushSubscriptionRecord, "id"> = {
      accountId,
      deviceClientId,
      url: input.url,
      keys: input.keys,
      verificationCode: crypto.randomUUID().replaceAll("-", ""),
      verified: false,
      expires,
      types: input.types,
      ...await this.credentialOf(caller),
    };
    const id = await this.store.pushSubscriptions.insert(record, now);
    const created = { ...record, id };
    this.onChange(created);
    return created;
  }

  /** Changes a subscription: the verification code sent back, its expiry or its types. */
  async update(
    accountId: number,
    id: number,
    changes: PushSubscriptionChanges,
  ): Promise<PushSubscriptionRecord> {
    const current = await this.owned(accountId, id);
    const next = { ...current };
    if (changes.verificationCode !== undefined) {
      if (changes.verificationCode !== current.verificationCode) {
        throw invalidProperty("verificationCode", "is not the code pushed to this subscription's URL");
      }
      next.verified = true;
    }
    if (changes.expires !== undefined) next.expires = this.expiry(changes.expires, Date.now());
    if (changes.types !== undefined) next.types = changes.types;
    await this.store.pushSubscriptions.update(next);
    this.onChange();
    return next;
  }

  /** Removes a subscription. */
  async destroy(accountId: number, id: number): Promise<void> {
    await this.owned(accountId, id);
    await this.store.pushSubscriptions.delete(id);
    this.onChange();
  }

  /** Removes a subscription whose push service says it is gone (404 or 410). */
  async forget(id: number): Promise<void> {
    await this.store.pushSubscriptions.delete(id);
  }

  /** Removes expired subscriptions; how many. */
  pruneExpired(now = Date.now()): Promise<number> {
    return this.store.pushSubscriptions.deleteExpired(now);
  }

  /** Whether the subscription may still be pushed to (its credential lives, its account is enabled). */
  isActive(id: number, now = Date.now()): Promise<boolean> {
    return this.store.pushSubscriptions.isActive(id, now);
  }

  /**
   * The stored credential behind a caller: the app password or API key itself, the token family of an
   * access token, or the account's password (every password change ends what was tied to it).
   */
  private async credentialOf(
    caller: Principal,
  ): Promise<{ credentialId: number | null; grantId: number | null }> {
    if (caller.method === "accessToken") return { credentialId: null, grantId: caller.credentialId };
    if (caller.method !== "password") return { credentialId: caller.credentialId, grantId: null };
    const [password] = await this.store.credentials.listByAccount(caller.accountId, "Password");
    if (!password) throw new RuleError("forbidden", "The account has no password to tie the subscription to");
    return { credentialId: password.id, grantId: null };
  }

  /** The expiry a client asked for, kept within the limit; none asked is the longest. */
  private expiry(asked: number | null, now: number): number {
    if (asked !== null && asked <= now) throw invalidProperty("expires", "is in the past");
    return Math.min(asked ?? Infinity, now + PUSH_LIMITS.maxExpiry);
  }

  private async owned(accountId: number, id: number): Promise<PushSubscriptionRecord> {
    const found = (await this.list(accountId)).find((s) => s.id === id);
    if (!found) throw new NotFoundError("PushSubscription", String(id));
    return found;
  }
}

/** An absolute http(s) URL without credentials (RFC 8620 §7.2 asks for https; http serves loopback). */
function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidProperty("url", "must be an absolute https:// URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw invalidProperty("url", `must be an https:// URL, not ${parsed.protocol}`);
  }
  if (parsed.username || parsed.password) throw invalidProperty("url", "must not carry credentials");
  if (url.length > PUSH_LIMITS.maxUrlLength) {
    throw invalidProperty("url", `is longer than ${PUSH_LIMITS.maxUrlLength} characters`);
  }
}

/** RFC 8291 keys: an uncompressed P-256 public key (65 bytes) and a 16-byte authentication secret. */
function checkKeys(keys: { p256dh: string; auth: string }): void {
  const p256dh = base64urlBytes(keys.p256dh);
  if (!p256dh || p256dh.length !== 65 || p256dh[0] !== 4) {
    throw invalidProperty("keys", "p256dh must be an uncompressed P-256 public key (65 bytes, base64url)");
  }
  const auth = base64urlBytes(keys.auth);
  if (!auth || auth.length !== 16) throw invalidProperty("keys", "auth must be a 16-byte secret, base64url");
}
