/**
 * Long-lived connections (JMAP WebSockets, EventSource streams) and the credentials they were opened
 * with. A connection keeps its Authorization and is authenticated again through the authenticator
 * (the same coherent caches as an HTTP request) before each message, whenever an invalidation event
 * concerns its account, and every few seconds as a safety net; a credential that no longer
 * authenticates ends it. While any connection is open, the coherence check that applies other
 * processes' invalidations (the CLI or TUI in local mode) runs on a timer, since no HTTP request may
 * come to run it. This is also the registry the server's shutdown ends every open connection through
 * ({@link LiveCredentials.closeAll}); a server that waited for them would never stop.
 */
import type { Logger } from "@logtape/logtape";
import { AuthError } from "../../model/errors.ts";
import type { InvalidationEvent, Principal } from "../../model/types.ts";

/** What the watch uses, as functions (the authenticator and the caches of the services). */
export interface LiveCredentialDeps {
  authenticate(authorization: string, clientAddress: string): Principal | Promise<Principal>;
  /** Subscribes to every applied invalidation event, local or read from another process. */
  onInvalidation(listener: (event: InvalidationEvent) => void): void;
  /** The coherence check: applies invalidations other processes committed. */
  sync(): Promise<void> | undefined;
  log: Logger;
  /** How often other processes' invalidations are read while a connection is open (default 100 ms). */
  syncIntervalMs?: number;
  /** How often every connection is authenticated again anyway (default 10 s). */
  recheckIntervalMs?: number;
}

/** A connection as the watch knows it. */
export interface LiveConnection {
  authorization: string;
  clientAddress: string;
  accountId: number;
  /** Ends the connection: its credential no longer authenticates (`reason` says why). */
  revoked(reason: string): void;
  /** Ends the connection: the server is shutting down. */
  shutdown(): void;
}

/** What a watched connection does with its watch. */
export interface CredentialWatch {
  /**
   * Authenticates the connection's credential now: its current principal, or undefined when the
   * credential no longer authenticates (the connection has then been ended).
   */
  check(): Promise<Principal | undefined>;
  /** Stops watching (the connection closed). */
  stop(): void;
}

/** Invalidations that concern every connection, whatever its account. */
function concernsAll(event: InvalidationEvent): boolean {
  switch (event.kind) {
    case "all":
    case "domain":
    case "oauthClient":
      return true;
    case "settings":
      // A new token key revokes every access token.
      return event.name === "OidcProvider";
    default:
      return false;
  }
}

/** The open connections of this process and the timers that keep their credentials checked. */
export class LiveCredentials {
  readonly #connections = new Set<Watched>();
  #syncTimer: ReturnType<typeof setInterval> | undefined;
  #recheckTimer: ReturnType<typeof setInterval> | undefined;
  #syncing = false;
  /** Verifications under way by Authorization: the connections of one browser share one. */
  readonly #verifying = new Map<string, Promise<Principal>>();
  /** Set by {@link closeAll}: a connection opened afterwards is ended at once. */
  #closed = false;

  constructor(private readonly deps: LiveCredentialDeps) {
    deps.onInvalidation((event) => {
      // A verification under way may have read what this event changes: checks from now on start
      // their own instead of joining it (the connection whose check it is re-checks, see Watched).
      this.#verifying.clear();
      if (this.#connections.size === 0) return;
      const all = concernsAll(event);
      const accountId = "accountId" in event ? event.accountId : undefined;
      if (!all && accountId === undefined) return;
      for (const watched of this.#connections) {
        if (all || watched.connection.accountId === accountId) this.#checkInBackground(watched);
      }
    });
  }

  /** Watches a connection until its `stop()`; once {@link closeAll} ran, ends it at once instead. */
  watch(connection: LiveConnection): CredentialWatch {
    if (this.#closed) {
      // Accepted just before the listener closed: ended as soon as its route has set it up.
      queueMicrotask(() => connection.shutdown());
      return { check: () => Promise.resolve(undefined), stop: () => {} };
    }
    const watched = new Watched(connection, {
      sync: this.deps.sync,
      authenticate: (authorization, clientAddress) => this.#authenticate(authorization, clientAddress),
      forget: () => this.#forget(watched),
    });
    this.#connections.add(watched);
    if (this.#syncTimer === undefined) this.#start();
    return watched;
  }

  /** Connections watched now. */
  get size(): number {
    return this.#connections.size;
  }

  /**
   * Ends every open connection (the server shuts down: event streams end, WebSockets close with
   * 1001) and any opened later, and stops the timers. Returns how many were open.
   */
  closeAll(): number {
    this.#closed = true;
    const open = [...this.#connections];
    this.#connections.clear();
    this.#stop();
    for (const watched of open) watched.shutdown();
    return open.length;
  }

  #authenticate(authorization: string, clientAddress: string): Principal | Promise<Principal> {
    const running = this.#verifying.get(authorization);
    if (running) return running;
    const result = this.deps.authenticate(authorization, clientAddress);
    if (!(result instanceof Promise)) return result;
    this.#verifying.set(authorization, result);
    return result.finally(() => {
      if (this.#verifying.get(authorization) === result) this.#verifying.delete(authorization);
    });
  }

  #forget(watched: Watched): void {
    this.#connections.delete(watched);
    if (this.#connections.size === 0) this.#stop();
  }

  #start(): void {
    this.#syncTimer = setInterval(() => this.#sync(), this.deps.syncIntervalMs ?? 100);
    this.#recheckTimer = setInterval(() => {
      for (const watched of this.#connections) this.#checkInBackground(watched);
    }, this.deps.recheckIntervalMs ?? 10_000);
    // Connections keep the process alive, not these timers.
    Deno.unrefTimer(this.#syncTimer);
    Deno.unrefTimer(this.#recheckTimer);
  }

  #stop(): void {
    clearInterval(this.#syncTimer);
    clearInterval(this.#recheckTimer);
    this.#syncTimer = this.#recheckTimer = undefined;
  }

  /** A check nobody waits for: a fault (not a revocation) is logged and the connection stays. */
  #checkInBackground(watched: Watched): void {
    watched.check().catch((error) =>
      this.deps.log.warn("Checking an open connection's credential failed: {error}", { error })
    );
  }

  #sync(): void {
    if (this.#syncing) return;
    try {
      const pending = this.deps.sync();
      if (!pending) return;
      this.#syncing = true;
      pending.catch((error) => this.#syncFailed(error)).finally(() => this.#syncing = false);
    } catch (error) {
      this.#syncFailed(error);
    }
  }

  #syncFailed(error: unknown): void {
    this.deps.log.warn("Reading other processes' invalidations failed: {error}", { error });
  }
}

/** One watched connection; checks of it run one at a time. */
class Watched implements CredentialWatch {
  #running: Promise<Principal | undefined> | undefined;
  #again = false;
  #ended = false;

  constructor(
    readonly connection: LiveConnection,
    private readonly deps: {
      sync(): Promise<void> | undefined;
      authenticate(authorization: string, clientAddress: string): Principal | Promise<Principal>;
      forget(): void;
    },
  ) {}

  check(): Promise<Principal | undefined> {
    if (this.#ended) return Promise.resolve(undefined);
    if (this.#running) {
      // A check under way may have read the caches before the event that asked for this one.
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#checkNow().finally(() => this.#running = undefined);
    return this.#running.then((principal) => {
      if (!this.#again || this.#ended) return principal;
      this.#again = false;
      return this.check();
    });
  }

  stop(): void {
    this.#ended = true;
    this.deps.forget();
  }

  /** Ends the connection for the server's shutdown (no further check runs). */
  shutdown(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.connection.shutdown();
  }

  async #checkNow(): Promise<Principal | undefined> {
    const { authorization, clientAddress } = this.connection;
    try {
      const synced = this.deps.sync();
      if (synced) await synced;
      const known = this.deps.authenticate(authorization, clientAddress);
      const principal = known instanceof Promise ? await known : known;
      if (principal.accountId !== this.connection.accountId) {
        throw new AuthError("The credential now belongs to another account", "invalid", undefined);
      }
      return this.#ended ? undefined : principal;
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      if (!this.#ended) {
        this.stop();
        this.connection.revoked(error.message);
      }
      return undefined;
    }
  }
}
