/**
 * Sending push subscriptions their pushes (RFC 8620 §7.2): a PushVerification when one is created,
 * then a StateChange for every change it may see once verified. Each verified subscription is a
 * listener of the push hub. A push goes as a POST with a TTL (RFC 8030), encrypted as RFC 8291
 * `aes128gcm` when the subscription has keys. At most one push per subscription is in flight;
 * changes meanwhile are merged into the next one (newest state per account and type), so a slow or
 * failing push service never makes the server hold more than one StateChange per subscription.
 * Failures are retried with exponential backoff (1 s doubling to 5 min) until the subscription
 * expires; a push service answering 404 or 410 has dropped it, and so does the server.
 */
import type { Logger } from "@logtape/logtape";
import type { PushSubscriptionRecord, PushSubscriptionService } from "../../mail/mod.ts";
import { type BackgroundTask, backgroundTask } from "../../model/background.ts";
import { base64urlBytes, concatBytes } from "../../model/bytes.ts";
import { encodeId } from "../../model/ids.ts";
import { mergeChanged } from "./event_source.ts";
import type { Changed, PushHub } from "./push_hub.ts";
import { refusedTarget } from "./push_targets.ts";

/** Backoff bounds and timings of push delivery. */
export const WEB_PUSH = {
  firstRetryMs: 1000,
  maxRetryMs: 300_000,
  timeoutMs: 10_000,
  /** Tries of a verification push before giving up (the client can create the subscription again). */
  verificationTries: 6,
  /** How often expired subscriptions are removed and the listeners re-read. */
  sweepMs: 60_000,
  /** RFC 8030 TTL: how long a push service may keep a push for an offline device, in seconds. */
  ttlSeconds: 86_400,
};

type Outcome = "ok" | "gone" | "retry";

interface Entry {
  record: PushSubscriptionRecord;
  remove: () => void;
  pending: Changed | null;
  busy: boolean;
  failures: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Delivers pushes to every verified subscription. */
export class WebPushSender {
  readonly #entries = new Map<number, Entry>();
  /** The address check of each push URL's host, kept a minute: every push would otherwise ask DNS twice. */
  readonly #checked = new Map<string, { until: number; refused: Promise<string | undefined> }>();
  #sweep: ReturnType<typeof setInterval> | undefined;
  #sweeping: BackgroundTask | undefined;
  #syncing: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    private readonly deps: {
      hub: PushHub;
      subscriptions: PushSubscriptionService;
      log: Logger;
      /** Whether pushes may go to loopback and private addresses (otherwise refused, see push_targets.ts). */
      privateTargets: boolean;
      /**
       * Whether this process sends StateChanges (default true). Of several serving processes one does:
       * each would otherwise push every change once more. The others only send the PushVerification of
       * a subscription created through them.
       */
      sendChanges?: boolean;
      /** How often subscriptions are re-read (default WEB_PUSH.sweepMs). */
      sweepMs?: number;
    },
  ) {}

  /** Starts listening for every verified subscription, and sweeping expired ones. */
  start(): Promise<void> {
    if (this.deps.sendChanges === false) {
      this.deps.subscriptions.onChange = (created) => void (created && this.verify(created));
      return Promise.resolve();
    }
    this.deps.subscriptions.onChange = (created) => {
      if (created) void this.verify(created);
      void this.sync();
    };
    // The sweep deletes: it must survive a database another process holds (see model/background.ts).
    const sweeping = backgroundTask(
      "Sweeping expired push subscriptions",
      async () => {
        await this.deps.subscriptions.pruneExpired();
        await this.sync();
      },
      { log: this.deps.log },
    );
    this.#sweeping = sweeping;
    const sweep = setInterval(() => void sweeping.run(), this.deps.sweepMs ?? WEB_PUSH.sweepMs);
    Deno.unrefTimer(sweep);
    this.#sweep = sweep;
    return this.sync();
  }

  /** Stops every listener and timer. */
  stop(): void {
    this.#stopped = true;
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweeping?.stop();
    for (const entry of this.#entries.values()) this.drop(entry);
  }

  /** Verified subscriptions being served now (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /** Brings the listeners in line with the stored subscriptions (one sync at a time). */
  sync(): Promise<void> {
    this.#syncing = this.#syncing.then(() => this.syncNow()).catch((error) =>
      this.deps.log.error("Push subscriptions could not be read: {error}", { error })
    );
    return this.#syncing;
  }

  private async syncNow(): Promise<void> {
    if (this.#stopped) return;
    const active = new Map((await this.deps.subscriptions.active()).map((s) => [s.id, s]));
    for (const [id, entry] of this.#entries) {
      const now = active.get(id);
      if (!now || JSON.stringify(now.types) !== JSON.stringify(entry.record.types)) this.drop(entry);
      else entry.record = now;
    }
    for (const [id, record] of active) {
      if (this.#entries.has(id)) continue;
      const entry: Entry = {
        record,
        remove: () => {},
        pending: null,
        busy: false,
        failures: 0,
        timer: undefined,
      };
      this.#entries.set(id, entry);
      entry.remove = await this.deps.hub.listen({
        accountId: record.accountId,
        types: record.types ? new Set(record.types) : null,
        notify: (changed) => this.enqueue(entry, changed),
      });
    }
  }

  private drop(entry: Entry): void {
    entry.remove();
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    this.#entries.delete(entry.record.id);
  }

  /** Pushes the verification code, retried with backoff a few times. */
  private async verify(record: PushSubscriptionRecord): Promise<void> {
    const body = {
      "@type": "PushVerification",
      pushSubscriptionId: encodeId(record.id),
      verificationCode: record.verificationCode,
    };
    for (let attempt = 0; attempt < WEB_PUSH.verificationTries && !this.#stopped; attempt++) {
      const outcome = await this.post(record, body);
      if (outcome === "ok") return;
      if (outcome === "gone") break;
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, backoff(attempt + 1));
        Deno.unrefTimer(timer);
      });
    }
    this.deps.log.warn("The verification push to subscription {id} could not be delivered", {
      id: record.id,
    });
  }

  private enqueue(entry: Entry, changed: Changed): void {
    entry.pending = mergeChanged(entry.pending ?? {}, changed);
    if (!entry.busy && entry.timer === undefined) this.kick(entry);
  }

  /** Runs a flush from a timer or an event: its failure is logged, never an unhandled rejection. */
  private kick(entry: Entry): void {
    this.flush(entry).catch((error) =>
      this.deps.log.warn("Push to subscription {id} failed: {error}", { id: entry.record.id, error })
    );
  }

  private async flush(entry: Entry): Promise<void> {
    entry.timer = undefined;
    if (!entry.pending || this.#entries.get(entry.record.id) !== entry) return;
    if (entry.record.expires <= Date.now()) return this.drop(entry);
    // The credential that made it may have been revoked (by any process) since the last sync: a push is
    // sent only while it lives (RFC 8620 §7.2).
    if (!await this.deps.subscriptions.isActive(entry.record.id)) {
      this.drop(entry);
      return;
    }
    const changed = entry.pending;
    entry.pending = null;
    entry.busy = true;
    const outcome = await this.post(entry.record, { "@type": "StateChange", changed });
    entry.busy = false;
    if (outcome === "gone") {
      this.drop(entry);
      // A write: retried with backoff while another process holds the database (model/background.ts).
      const id = entry.record.id;
      await backgroundTask("Forgetting a gone push subscription", () => this.deps.subscriptions.forget(id), {
        log: this.deps.log,
      }).run();
      return;
    }
    if (outcome === "retry") {
      // What failed goes again, overtaken by anything newer.
      entry.pending = mergeChanged(changed, entry.pending ?? {});
      entry.failures++;
      const timer = setTimeout(() => this.kick(entry), backoff(entry.failures));
      Deno.unrefTimer(timer);
      entry.timer = timer;
      return;
    }
    entry.failures = 0;
    if (entry.pending) this.kick(entry);
  }

  #refusal(url: string): Promise<string | undefined> {
    const host = new URL(url).host;
    const now = Date.now();
    let checked = this.#checked.get(host);
    if (!checked || checked.until <= now) {
      if (this.#checked.size > 10_000) this.#checked.clear();
      checked = { until: now + 60_000, refused: refusedTarget(url) };
      this.#checked.set(host, checked);
    }
    return checked.refused;
  }

  /** One POST to the subscription's URL. */
  private async post(record: PushSubscriptionRecord, message: unknown): Promise<Outcome> {
    const json = new TextEncoder().encode(JSON.stringify(message));
    const headers: Record<string, string> = { ttl: String(WEB_PUSH.ttlSeconds), urgency: "normal" };
    let body: Uint8Array;
    if (record.keys) {
      body = await encryptAes128gcm(json, record.keys);
      headers["content-encoding"] = "aes128gcm";
      headers["content-type"] = "application/octet-stream";
    } else {
      body = json;
      headers["content-type"] = "application/json; charset=utf-8";
    }
    const refused = this.deps.privateTargets ? undefined : await this.#refusal(record.url);
    if (refused) {
      this.deps.log.warn("Push to subscription {id} refused: {reason}", { id: record.id, reason: refused });
      return "gone";
    }
    try {
      const response = await fetch(record.url, {
        method: "POST",
        headers,
        body: body as Uint8Array<ArrayBuffer>,
        redirect: "manual",
        signal: AbortSignal.timeout(WEB_PUSH.timeoutMs),
      });
      await response.body?.cancel();
      if (response.ok) return "ok";
      if (response.status === 404 || response.status === 410) return "gone";
      this.deps.log.warn("Push to subscription {id} answered {status}", {
        id: record.id,
        status: response.status,
      });
      return "retry";
    } catch (error) {
      this.deps.log.warn("Push to subscription {id} failed: {error}", {
        id: record.id,
        error: String(error),
      });
      return "retry";
    }
  }
}

const backoff = (failures: number) =>
  Math.min(WEB_PUSH.firstRetryMs * 2 ** Math.max(0, failures - 1), WEB_PUSH.maxRetryMs);

const utf8 = (text: string) => new TextEncoder().encode(text);

async function hkdf(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, bytes: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", concatBytes(ikm), "HKDF", false, ["deriveBits"]);
  return new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: concatBytes(salt), info: concatBytes(info) },
      key,
      bytes * 8,
    ),
  );
}

/**
 * RFC 8291 message encryption for Web Push, in the RFC 8188 `aes128gcm` content coding: a fresh
 * ECDH key pair per message, the key and nonce derived with the subscription's auth secret, and the
 * whole payload in one record.
 */
export async function encryptAes128gcm(
  payload: Uint8Array,
  keys: { p256dh: string; auth: string },
): Promise<Uint8Array> {
  const uaPublic = base64urlBytes(keys.p256dh)!;
  const authSecret = base64urlBytes(keys.auth)!;
  const ephemeral = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
    "deriveBits",
  ]);
  const asPublic = new Uint8Array(await crypto.subtle.exportKey("raw", ephemeral.publicKey));
  const uaKey = await crypto.subtle.importKey(
    "raw",
    uaPublic,
    { name: "ECDH", namedCurve: "P-256" },
    false,
    [],
  );
  const shared = new Uint8Array(
    await crypto.subtle.deriveBits({ name: "ECDH", public: uaKey }, ephemeral.privateKey, 256),
  );
  const ikm = await hkdf(authSecret, shared, concatBytes(utf8("WebPush: info\0"), uaPublic, asPublic), 32);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const cek = await hkdf(salt, ikm, utf8("Content-Encoding: aes128gcm\0"), 16);
  const nonce = await hkdf(salt, ikm, utf8("Content-Encoding: nonce\0"), 12);
  const key = await crypto.subtle.importKey("raw", concatBytes(cek), "AES-GCM", false, ["encrypt"]);
  // The last (here, only) record ends with the delimiter 0x02 (RFC 8188 §2).
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: concatBytes(nonce) },
      key,
      concatBytes(payload, Uint8Array.of(2)),
    ),
  );
  const recordSize = Math.max(4096, sealed.length);
  const header = new Uint8Array(16 + 4 + 1);
  header.set(salt, 0);
  new DataView(header.buffer).setUint32(16, recordSize);
  header[20] = asPublic.length;
  return concatBytes(header, asPublic, sealed);
}
