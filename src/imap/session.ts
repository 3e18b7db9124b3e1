/**
 * One IMAP session (RFC 9051 §3): the states not authenticated → authenticated → (selected) →
 * logout, driven by the decoder's events. Read in order:
 *
 * 1. greeting: `* OK [CAPABILITY …]` (capabilities.ts decides the list by the session's standing).
 * 2. each event: a continuation request is written; a `bad` is `tag BAD` (or `* BAD`); a command
 *    is checked against its states (commands/table.ts) and, once logged in, preceded by the
 *    credential's re-check: a password changed, an app password deleted, a token revoked or the
 *    account disabled since login ends the session with `* BYE` (RFC 9051 §7.1.5).
 * 3. the handler runs and answers; a domain error becomes NO with an RFC 5530 code (errors.ts), a
 *    fault `NO [SERVERBUG]`; every NO and BAD counts towards the session's error cap, past which it is
 *    closed with `* BYE`.
 * 4. in the selected state, before the tagged answer, the sync (session_sync.ts) tells the client
 *    what changed in the mailbox meanwhile; expunges only when the command's entry allows them.
 * 5. a handler that needs more lines from the client (AUTHENTICATE, IDLE) asks for them with
 *    `expectLine`; the next raw line goes to it instead of the decoder's command parser.
 */
import type { Logger } from "@logtape/logtape";
import type { SaslCheck, SaslCredentials } from "../auth/mod.ts";
import { AuthError } from "../model/errors.ts";
import type { Principal } from "../model/types.ts";
import { capabilities } from "./capabilities.ts";
import type { DecodeEvent, ImapCommand, ResponseValue, StatusResponse } from "./command.ts";
import type { ImapCommandDecoder } from "./decoder.ts";
import { answerOf } from "./errors.ts";
import type { ImapMailboxes, ImapMessages } from "./mailbox_deps.ts";
import type { ImapMetrics } from "./metrics.ts";
import { atom, ResponseWriter } from "./response.ts";
import type { SelectedMailbox } from "./selected.ts";
import { syncSelected } from "./session_sync.ts";

/** What the session needs from the services. */
export interface SessionDeps {
  /** LOGIN and AUTHENTICATE: the one authenticator's check with IMAP's scope. */
  checkLogin(credentials: SaslCredentials, client: string): Promise<SaslCheck>;
  /** The session's credential checked again (no throttle); throws AuthError when it was revoked. */
  recheck(authorization: string, client: string): Promise<Principal>;
  mailboxes: ImapMailboxes;
  /** The selected state's operations (src/mail/imap_mailbox.ts). */
  messages: ImapMessages;
  metrics: ImapMetrics;
  log: Logger;
  limits: { maxErrors: number };
  /** The server's version for ID. */
  version: string;
  /**
   * Watches a logged-in session's credential between commands (jmap/push/live_credentials.ts, the
   * registry of every long-lived connection): an invalidation of its account (a password changed, an
   * app password deleted, a token revoked, the account disabled) ends even an idle session with BYE.
   */
  watch?(connection: WatchedSession): { stop(): void };
  /**
   * Calls `listener` after writes (of any process) that changed mail the account sees, its own or
   * shared with it (the push hub over the change log); IDLE waits on it. Absent: IDLE hears nothing.
   */
  changes?(accountId: number, listener: () => void): { stop(): void };
}

/** A session as the credential watch sees it. */
export interface WatchedSession {
  authorization: string;
  clientAddress: string;
  accountId: number;
  revoked(reason: string): void;
  shutdown(): void;
}

/** The connection under a session: writes, TLS, compression, close. */
export interface SessionIo {
  readonly client: string;
  /** TLS is on (993, or after STARTTLS). */
  readonly secure: boolean;
  /** The listener offers STARTTLS (143). */
  readonly starttls: boolean;
  write(bytes: Uint8Array): void;
  /**
   * Resolves once what was written has left for the client (or the connection closed), so a long
   * answer (FETCH 1:* BODY[]) is written message by message instead of piling up in memory.
   */
  drained?(): Promise<void>;
  /** Starts TLS; bytes the client sent after STARTTLS and before the handshake are discarded. */
  startTls(): Promise<void>;
  /** Turns on COMPRESS=DEFLATE for both directions from the next byte. */
  compress(): void;
  close(): void;
}

/** The session states of RFC 9051 §3. */
export type SessionState = "notAuthenticated" | "authenticated" | "selected" | "logout";

/** One command's entry in the dispatch table (commands/table.ts). */
export interface CommandEntry {
  states: readonly SessionState[];
  /**
   * Whether the session may report expunges (EXPUNGE or VANISHED) after this command, in the
   * synchronisation of the selected mailbox before the tagged answer. RFC 9051 §7.4.1: never while
   * answering FETCH, STORE or SEARCH (their UID forms may), so sequence numbers the client is using
   * stay valid. Absent = false.
   */
  expunges?: boolean;
  /**
   * Whether the command leaves the selected mailbox told up to the state it read itself (SELECT,
   * EXAMINE), so no sync follows it: what changed since is told after the next command. Absent = false.
   */
  synced?: boolean;
  run(session: ImapSession, command: ImapCommand): Promise<Outcome>;
}

/** How a command ended: its tagged answer, or "pending" when a line exchange will answer it. */
export type Outcome = StatusResponse | "pending";

/** A state machine for one connection. */
export class ImapSession {
  state: SessionState = "notAuthenticated";
  principal: Principal | undefined;
  /** The selected mailbox and the client's view of it, in the selected state (set by SELECT/EXAMINE). */
  selected: SelectedMailbox | undefined;
  /** The credential logged in with, as an Authorization value, for the re-check. */
  authorization: string | undefined;
  mechanism: string | undefined;
  compressed = false;
  /** ENABLEd extensions (RFC 5161). */
  readonly enabled = new Set<string>();
  /** The client's ID parameters (RFC 2971), for the session's log line. */
  clientId: Record<string, string | null> | null = null;
  readonly writer = new ResponseWriter();
  readonly started = Date.now();
  commands = 0;
  errors = 0;
  #onLine: ((line: string) => Promise<void>) | undefined;
  #onLineAborted: (() => void) | undefined;
  #closing = false;
  /** A command is being run and answered: a BYE for a mailbox gone waits for its answer. */
  #inCommand = false;
  #byeAfterAnswer: string | undefined;
  #watch: { stop(): void } | undefined;
  /** What to stop when the session ends (IDLE's subscription to changes). */
  readonly #cleanups = new Set<() => void>();

  constructor(
    readonly io: SessionIo,
    readonly decoder: ImapCommandDecoder,
    readonly deps: SessionDeps,
    /** Command name → entry (commands/table.ts). */
    readonly table: Partial<Record<string, CommandEntry>>,
  ) {}

  /** The capability names in the session's standing now. */
  capabilities(): string[] {
    return capabilities({
      secure: this.io.secure,
      starttls: this.io.starttls,
      authenticated: this.state !== "notAuthenticated",
      compressed: this.compressed,
    });
  }

  /** The capability list as a response code (greeting, LOGIN's OK). */
  capabilityCode(): { name: string; values: ResponseValue[] } {
    return { name: "CAPABILITY", values: this.capabilities().map(atom) };
  }

  /** Writes the greeting. */
  greet(): void {
    this.status({ status: "OK", code: this.capabilityCode(), text: "Postern IMAP4rev2 ready" });
  }

  /** Writes untagged data. */
  untagged(values: ResponseValue[]): void {
    this.io.write(this.writer.untagged(values));
  }

  /** Writes a status response. */
  status(response: StatusResponse): void {
    this.io.write(this.writer.status(response));
  }

  /** Writes a continuation request. */
  continuation(text: string): void {
    this.io.write(this.writer.continuation(text));
  }

  /**
   * The next raw line the client sends goes to `handler` (AUTHENTICATE responses, IDLE's DONE);
   * `aborted` runs instead when that line is refused (too long).
   */
  expectLine(handler: (line: string) => Promise<void>, aborted?: () => void): void {
    this.#onLine = handler;
    this.#onLineAborted = aborted;
    this.decoder.lineMode(true);
  }

  /** Called once LOGIN or AUTHENTICATE succeeded: the credential is watched from now on. */
  loggedIn(): void {
    this.#watch = this.deps.watch?.({
      authorization: this.authorization!,
      clientAddress: this.io.client,
      accountId: this.principal!.accountId,
      revoked: (reason) => this.#revoked(reason),
      shutdown: () => this.bye("Server shutting down"),
    });
  }

  /** Runs `cleanup` when the session ends (unless the returned function is called first). */
  atEnd(cleanup: () => void): () => void {
    this.#cleanups.add(cleanup);
    return () => this.#cleanups.delete(cleanup);
  }

  /** Ends the session with `* BYE text`. */
  bye(text: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#watch?.stop();
    this.#cleanup();
    this.state = "logout";
    this.status({ status: "BYE", text });
    this.io.close();
  }

  /** The selected mailbox was deleted or its grant taken back: nothing selected, and `* BYE text`. */
  selectedGone(text: string): void {
    this.selected = undefined;
    this.state = "authenticated";
    if (this.#inCommand) this.#byeAfterAnswer = text;
    else this.bye(text);
  }

  /** Whether the session ended. */
  get closed(): boolean {
    return this.#closing;
  }

  /** Handles one decoder event. */
  async handle(event: DecodeEvent): Promise<void> {
    if (this.#closing) return;
    switch (event.type) {
      case "continue":
        return this.continuation(event.text);
      case "line": {
        const handler = this.#onLine;
        this.#onLine = undefined;
        this.#onLineAborted = undefined;
        if (handler) return await handler(event.line);
        return this.#answer({ status: "BAD", text: "Unexpected line" }, "unknown");
      }
      case "bad":
        if (this.#onLine) {
          // A raw line too long during an exchange ends that exchange (IDLE stops listening).
          this.#onLine = undefined;
          this.#onLineAborted?.();
          this.#onLineAborted = undefined;
        }
        return this.#answer(
          { tag: event.tag, status: "BAD", code: code(event.code), text: event.text },
          "bad",
        );
      case "tooBig":
        this.#answer({
          tag: event.tag,
          status: event.tag ? "NO" : "BAD",
          code: { name: "TOOBIG" },
          text: event.text,
        }, "tooBig");
        if (event.close) this.bye("Literal too large");
        return;
      case "command":
        return await this.#command(event.command);
    }
  }

  /** Writes a command's final answer, counting it (and the error cap). */
  finish(name: string, response: StatusResponse): void {
    this.#answer(response, name);
  }

  async #command(command: ImapCommand): Promise<void> {
    this.#inCommand = true;
    try {
      await this.#run(command);
    } finally {
      this.#inCommand = false;
      const bye = this.#byeAfterAnswer;
      this.#byeAfterAnswer = undefined;
      if (bye) this.bye(bye);
    }
  }

  async #run(command: ImapCommand): Promise<void> {
    const { tag, body } = command;
    this.commands++;
    const entry = this.table[body.name];
    if (!entry) {
      return this.#answer({ tag, status: "BAD", text: `${body.name} is not supported yet` }, body.name);
    }
    if (!entry.states.includes(this.state)) {
      return this.#answer({ tag, status: "BAD", text: wrongState(body.name, this.state) }, body.name);
    }
    if (this.state !== "notAuthenticated" && !await this.#stillValid(tag)) return;
    let outcome: Outcome;
    try {
      outcome = await entry.run(this, command);
    } catch (error) {
      const answer = answerOf(tag, error);
      if (!answer) {
        this.deps.log.error("IMAP {command} failed: {error}", { command: body.name, error });
      }
      outcome = answer ??
        { tag, status: "NO", code: { name: "SERVERBUG" }, text: "Internal error; try again" };
    }
    if (outcome === "pending") return;
    if (this.state === "selected" && !entry.synced) {
      // RFC 9051 §7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH; their UID forms may.
      await this.sync({ expunges: entry.expunges === true || command.uid, uid: command.uid });
    }
    this.#answer(outcome, body.name);
  }

  /** Tells the client what changed in the selected mailbox (session_sync.ts); a fault is logged. */
  async sync(options: { expunges: boolean; uid?: boolean }): Promise<void> {
    try {
      await syncSelected(this, options);
    } catch (error) {
      this.deps.log.error("IMAP sync of the selected mailbox failed: {error}", { error });
    }
  }

  /** Re-checks the session's credential; false (and the session closed) when it no longer verifies. */
  async #stillValid(tag: string): Promise<boolean> {
    try {
      this.principal = await this.deps.recheck(this.authorization!, this.io.client);
      return true;
    } catch (error) {
      if (!(error instanceof AuthError)) {
        this.deps.log.error("Re-checking an IMAP session's credential failed: {error}", { error });
        this.#answer(
          { tag, status: "NO", code: { name: "UNAVAILABLE" }, text: "Try again later" },
          "recheck",
        );
        return false;
      }
      this.#revoked(error.reason);
      return false;
    }
  }

  /** The session's credential no longer verifies: counted, logged, and the session ended. */
  #revoked(reason: string): void {
    if (this.#closing) return;
    this.deps.metrics.login(this.mechanism ?? "unknown", "revoked");
    this.deps.log.warn("IMAP credential no longer valid in a session from {client}: {reason}", {
      event: "imap.credential_revoked",
      client: this.io.client,
      account: this.principal?.name,
      mechanism: this.mechanism,
      reason,
    });
    this.bye("Credentials no longer valid; log in again");
  }

  /** The connection closed: the watch ends. */
  ended(): void {
    this.#watch?.stop();
    this.#watch = undefined;
    this.#cleanup();
  }

  #cleanup(): void {
    for (const cleanup of [...this.#cleanups]) cleanup();
    this.#cleanups.clear();
  }

  #answer(response: StatusResponse, name: string): void {
    if (this.#closing) return;
    this.status(response);
    this.deps.metrics.command(name, response.status);
    if (response.status !== "NO" && response.status !== "BAD") return;
    if (++this.errors >= this.deps.limits.maxErrors) {
      this.deps.metrics.refused("tooManyErrors");
      this.bye("Too many failed commands");
    }
  }
}

function code(name: string | undefined): { name: string } | undefined {
  return name ? { name } : undefined;
}

function wrongState(name: string, state: SessionState): string {
  if (state === "notAuthenticated") return `${name} needs a login first`;
  if (state === "authenticated") {
    return name === "LOGIN" || name === "AUTHENTICATE" || name === "STARTTLS"
      ? `${name} is only valid before login`
      : `${name} needs a selected mailbox`;
  }
  return `${name} is not valid now`;
}
