/**
 * RSA signatures for DKIM (dkim_signing.ts) in a worker thread (rsa_sign_worker.ts). Deno makes an
 * RSA signature on the calling thread, whether through WebCrypto or node:crypto (measured: 40
 * signatures started at once held the event loop for 61 ms), and at about 1.5 ms it is the costliest
 * step of sending a message, so the delivery worker's event loop, which also runs every SMTP
 * session and JMAP request, would spend most of its time signing.
 *
 * One worker, started at the first signature and ended after a second without any (a running worker
 * keeps the process alive). A worker that fails, or cannot start, is not replaced: what it held and
 * every later signature are made on the calling thread, so a message is always signed.
 */
import type { RsaSignAnswer, RsaSignRequest } from "./rsa_sign_worker.ts";
import { workerUrl } from "../model/worker_url.ts";

/**
 * Name of the `Symbol.for` key on `globalThis` where scripts/bundle.ts stores the bundled worker's
 * source, because a single-file bundle has no rsa_sign_worker.ts next to it to load.
 */
export const EMBEDDED_RSA_SIGN_WORKER_KEY = "postern.rsaSignWorkerSource";

/** How long the worker waits for the next signature before it is ended. */
const IDLE_MS = 1000;

/** Makes a signature on the calling thread (the fallback). */
export type InlineRsaSign = (pem: string, data: Uint8Array) => Promise<Uint8Array>;

interface Pending {
  pem: string;
  data: Uint8Array;
  resolve: (signature: Uint8Array) => void;
  reject: (error: Error) => void;
}

/** Signs in a worker; same signatures as `inline`. */
export class RsaSignPool {
  #worker: Worker | undefined;
  #failed = false;
  #closed = false;
  #ids = 0;
  readonly #pending = new Map<number, Pending>();
  #idle: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly inline: InlineRsaSign) {}

  /** RSASSA-PKCS1-v1_5 with SHA-256 of `data` by the PEM private key. */
  sign(pem: string, data: Uint8Array): Promise<Uint8Array> {
    const worker = this.#failed || this.#closed ? undefined : this.#started();
    if (!worker) return this.inline(pem, data);
    clearTimeout(this.#idle);
    const id = ++this.#ids;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { pem, data, resolve, reject });
      worker.postMessage({ id, pem, data } satisfies RsaSignRequest);
    });
  }

  /** Ends the worker; later signatures are made on the calling thread. */
  close(): void {
    this.#closed = true;
    this.#stop();
  }

  #started(): Worker | undefined {
    if (this.#worker) return this.#worker;
    try {
      const url = workerUrl(EMBEDDED_RSA_SIGN_WORKER_KEY, new URL("./rsa_sign_worker.ts", import.meta.url));
      const worker = new Worker(url, { type: "module" });
      worker.onmessage = (event: MessageEvent<RsaSignAnswer>) => this.#answer(event.data);
      worker.onerror = (event: ErrorEvent) => {
        // Without preventDefault an uncaught worker error is rethrown in the main thread and ends the process.
        event.preventDefault();
        this.#fail();
      };
      return this.#worker = worker;
    } catch {
      this.#fail();
      return undefined;
    }
  }

  #answer(answer: RsaSignAnswer): void {
    const pending = this.#pending.get(answer.id);
    if (!pending) return;
    this.#pending.delete(answer.id);
    if ("signature" in answer) pending.resolve(answer.signature);
    else pending.reject(new Error(answer.error));
    if (this.#pending.size === 0) {
      clearTimeout(this.#idle);
      this.#idle = setTimeout(() => this.#pending.size === 0 && this.#stop(), IDLE_MS);
    }
  }

  /** The worker is gone: what it held is signed here, and so is everything after. */
  #fail(): void {
    this.#failed = true;
    this.#stop();
  }

  #stop(): void {
    clearTimeout(this.#idle);
    this.#worker?.terminate();
    this.#worker = undefined;
    const held = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of held) this.inline(p.pem, p.data).then(p.resolve, p.reject);
  }
}
