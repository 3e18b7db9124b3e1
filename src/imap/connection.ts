/**
 * One IMAP connection: the socket under a session, read in order:
 *
 * 1. bytes in (through inflate once COMPRESS is on) go to the command decoder, one chunk at a time:
 *    the socket is paused while the session works on a chunk's events, so a client that pipelines
 *    cannot make the server buffer without bound.
 * 2. after a command that pauses the decoder (AUTHENTICATE, IDLE) the rest of the chunk is decoded
 *    once the handler has set the line mode; after STARTTLS the bytes already read are dropped
 *    (CVE-2011-0411: nothing sent before the handshake may run after it) and the TLS socket takes
 *    over; after COMPRESS they are the first compressed bytes.
 * 3. bytes out are gathered while the session handles an event and go out as one write when it is
 *    done (outside one, such as IDLE's news, when it yields: a microtask), before STARTTLS or
 *    COMPRESS takes the socket over, past 16 KiB and at close: SELECT's ten responses and its
 *    tagged answer, or a one-message FETCH and its tagged answer, make one TLS record and one
 *    system call. Through deflate (with a sync flush per write) once COMPRESS is on; `drained` lets
 *    a long answer wait for the socket (and the deflate stream) to take more.
 * 4. timers: until login, the whole session has `loginTimeoutSeconds` (a slow or silent client
 *    cannot hold a slot); after login, `idleTimeoutSeconds` of silence (RFC 9051 §5.4) logs out.
 *    Activity records its time; the one idle timer checks it when it fires.
 */
import type { Socket } from "node:net";
import { type SecureContext, TLSSocket } from "node:tls";
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from "node:zlib";
import { createCommandDecoder, type ImapCommandDecoder } from "./decoder.ts";
import { ImapSession, type SessionDeps, type SessionIo } from "./session.ts";
import type { ImapListenerName } from "./metrics.ts";
import { COMMANDS } from "./commands/table.ts";
import { APPEND_LIMIT } from "./capabilities.ts";
import { concatBytes } from "../model/bytes.ts";

/** Decoder limits (Dovecot's imap_max_line_length is 64 KiB). */
export const IMAP_DECODER_LIMITS = { maxLine: 65_536, maxAppendLiteral: APPEND_LIMIT, maxLiteral: 65_536 };

/** What a connection needs besides the session's dependencies. */
export interface ConnectionOptions {
  listener: ImapListenerName;
  /** The certificate for a handshake now (re-read when its files change). */
  secureContext(): Promise<SecureContext>;
  loginTimeoutMs: number;
  idleTimeoutMs: number;
  deps: SessionDeps;
}

const EMPTY = new Uint8Array(0);

/** Bytes gathered past this go out at once (a long FETCH answer does not pile up). */
const FLUSH_BYTES = 16 * 1024;

/** Serves one accepted socket; resolves when it is closed. */
export class ImapConnection implements SessionIo {
  readonly client: string;
  readonly starttls: boolean;
  secure = false;
  readonly session: ImapSession;
  #socket: Socket;
  #decoder: ImapCommandDecoder;
  #deflate: DeflateRaw | undefined;
  #inflate: InflateRaw | undefined;
  #work: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The timer running is the idle timer (not the login deadline). */
  #idleTimer = false;
  /** When the client last sent or was sent something, once logged in (ms since the epoch). */
  #lastActive = 0;
  #closed = false;
  /** Bytes written by the session and not yet given to the socket (step 3). */
  #out: Uint8Array[] = [];
  #outBytes = 0;
  #flushQueued = false;
  /** The session is handling an event: its bytes go out when it is done. */
  #handling = false;
  readonly done: Promise<void>;
  #resolveDone!: () => void;

  constructor(socket: Socket, readonly options: ConnectionOptions) {
    this.#socket = socket;
    this.client = (socket.remoteAddress ?? "unknown").replace(/^::ffff:/, "");
    this.starttls = options.listener === "imap";
    this.#decoder = createCommandDecoder(IMAP_DECODER_LIMITS);
    this.session = new ImapSession(this, this.#decoder, options.deps, COMMANDS);
    this.done = new Promise((resolve) => this.#resolveDone = resolve);
  }

  /** Starts the session: the handshake first on 993, then the greeting. */
  async start(): Promise<void> {
    this.#arm();
    this.#socket.on("close", () => this.#ended());
    this.#socket.on("error", () => this.close());
    if (!this.starttls) {
      const ok = await this.#handshake();
      if (!ok) return;
    }
    this.#read(this.#socket);
    this.session.greet();
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#out.push(bytes);
    this.#outBytes += bytes.length;
    if (this.#outBytes >= FLUSH_BYTES) this.#flush();
    else if (!this.#handling && !this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /** Gives the gathered bytes to the socket (or deflate) as one write. */
  #flush(): void {
    this.#flushQueued = false;
    if (this.#closed || this.#outBytes === 0) return;
    const out = this.#out;
    const bytes = out.length === 1 ? out[0] : concatBytes(...out);
    this.#out = [];
    this.#outBytes = 0;
    if (this.#deflate) {
      this.#deflate.write(bytes);
      this.#deflate.flush(constants.Z_SYNC_FLUSH);
    } else this.#socket.write(bytes);
    this.#arm();
  }

  async drained(): Promise<void> {
    // What is gathered stays under FLUSH_BYTES (write() sends past it): it goes out with the
    // answer's end, so a short answer (UID FETCH of one message) is still one write, not two.
    for (const stream of [this.#deflate, this.#socket]) {
      if (!stream || this.#closed || !stream.writableNeedDrain) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off("drain", done);
          stream.off("close", done);
          resolve();
        };
        stream.on("drain", done);
        stream.on("close", done);
      });
    }
  }

  async startTls(): Promise<void> {
    // The answer to STARTTLS goes in the clear; what the client sent after it, before the
    // handshake, is dropped unread.
    this.#flush();
    this.#decoder.takePending();
    this.#socket.removeAllListeners("data");
    await this.#handshake();
    if (this.#closed) return;
    this.#read(this.#socket);
  }

  compress(): void {
    // The answer to COMPRESS goes uncompressed.
    this.#flush();
    const pending = this.#decoder.takePending();
    this.#deflate = createDeflateRaw();
    this.#inflate = createInflateRaw();
    const raw = this.#socket;
    this.#deflate.on("data", (chunk: Uint8Array) => raw.write(chunk));
    this.#inflate.on("data", (chunk: Uint8Array) => this.#enqueue(chunk));
    this.#inflate.on("error", () => this.close());
    raw.removeAllListeners("data");
    raw.on("data", (chunk: Uint8Array) => this.#inflate!.write(chunk));
    if (pending.length) this.#inflate.write(pending);
  }

  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    clearTimeout(this.#timer);
    const socket = this.#socket;
    if (this.#deflate) this.#deflate.end(() => socket.end());
    else socket.end();
    // A client that does not close its end in time is cut.
    setTimeout(() => socket.destroy(), 2000).unref?.();
  }

  async #handshake(): Promise<boolean> {
    let context: SecureContext;
    try {
      context = await this.options.secureContext();
    } catch (error) {
      this.options.deps.log.error("No TLS certificate for IMAP: {error}", { error: String(error) });
      this.#socket.destroy();
      return false;
    }
    const tls = new TLSSocket(this.#socket, { isServer: true, secureContext: context });
    const ok = await new Promise<boolean>((resolve) => {
      tls.once("secure", () => resolve(true));
      tls.once("error", () => resolve(false));
      tls.once("close", () => resolve(false));
    });
    if (!ok) {
      tls.destroy();
      this.#ended();
      return false;
    }
    this.#socket = tls;
    this.secure = true;
    tls.on("close", () => this.#ended());
    tls.on("error", () => this.close());
    return true;
  }

  #read(socket: Socket): void {
    socket.on("data", (chunk: Uint8Array) => this.#enqueue(chunk));
  }

  #enqueue(chunk: Uint8Array): void {
    this.#arm();
    this.#socket.pause();
    this.#work = this.#work.then(() => this.#decode(chunk)).catch((error) => {
      this.options.deps.log.error("IMAP session failed: {error}", { error });
      this.close();
    }).finally(() => {
      if (!this.#closed) this.#socket.resume();
    });
  }

  async #decode(chunk: Uint8Array): Promise<void> {
    let events = this.#decoder.push(chunk);
    while (events.length && !this.session.closed) {
      for (const event of events) {
        this.#handling = true;
        try {
          await this.session.handle(event);
        } finally {
          this.#handling = false;
          this.#flush();
        }
        if (this.session.closed || this.#closed) return;
      }
      // Bytes held after a pausing command (AUTHENTICATE, IDLE) are decoded now that the line mode is set.
      events = this.#decoder.push(EMPTY);
    }
  }

  /**
   * Restarts the session's clock: the login deadline before login (armed once, never pushed back),
   * the idle timer after. Activity only records its time; the one idle timer, when it fires early,
   * waits the rest (a timer cleared and set per command costs more than the command's own work).
   */
  #arm(): void {
    const loggedIn = this.session?.state === "authenticated" || this.session?.state === "selected";
    if (!loggedIn) {
      if (this.#timer === undefined) this.#setTimer(this.options.loginTimeoutMs, false);
      return;
    }
    this.#lastActive = Date.now();
    if (!this.#idleTimer) {
      clearTimeout(this.#timer);
      this.#setTimer(this.options.idleTimeoutMs, true);
    }
  }

  #setTimer(ms: number, idle: boolean): void {
    this.#idleTimer = idle;
    this.#timer = setTimeout(() => this.#expired(), ms);
  }

  #expired(): void {
    const state = this.session.state;
    if (this.#closed || state === "logout") return;
    if (state !== "authenticated" && state !== "selected") {
      this.options.deps.metrics.refused("loginTimeout");
      this.session.bye("Login timeout");
      this.close();
      return;
    }
    if (!this.#idleTimer) this.#lastActive = Date.now();
    const left = this.#lastActive + this.options.idleTimeoutMs - Date.now();
    if (left > 0) return this.#setTimer(left, true);
    this.options.deps.metrics.refused("idleTimeout");
    this.session.bye("Autologout; idle for too long");
  }

  #ended(): void {
    if (!this.#closed) {
      this.#closed = true;
      clearTimeout(this.#timer);
    }
    this.#socket.destroy();
    this.session.ended();
    this.#resolveDone();
  }
}
