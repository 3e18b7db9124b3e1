/**
 * An IMAP session in the test's process, on a TestApp's services, logged in as one user: commands
 * go through the real decoder, session and dispatch table, and the lines it writes come back. A
 * mailbox can be selected without the SELECT command (the selected state's view built from the
 * IMAP mail service's selection), so the handlers of that state are tested on their own.
 */
import { getLogger } from "@logtape/logtape";
import { decodeId } from "../src/model/ids.ts";
import type { Principal } from "../src/model/types.ts";
import { createCommandDecoder } from "../src/imap/decoder.ts";
import { ImapMetrics } from "../src/imap/metrics.ts";
import { ImapSession, type SessionDeps, type SessionIo } from "../src/imap/session.ts";
import { SelectedMailbox } from "../src/imap/selected.ts";
import { COMMANDS } from "../src/imap/commands/table.ts";
import { namedMailboxes, sameName } from "../src/imap/commands/mailbox_names.ts";
import { imapMailboxes } from "../src/imap_listener.ts";
import type { TestApp } from "./helpers.ts";
import type { Who } from "./mail_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A logged-in session driven line by line. */
export class InProcessSession {
  #output = "";
  #tag = 0;
  readonly session: ImapSession;
  readonly services: TestApp["services"];

  constructor(t: TestApp, who: Who, login = who.emailAddress.split("@")[0]) {
    this.services = t.services;
    const principal: Principal = {
      accountId: decodeId(who.accountId)!,
      name: login,
      roles: [],
      method: "password",
      credentialId: null,
    };
    const io: SessionIo = {
      client: "127.0.0.1",
      secure: true,
      starttls: false,
      write: (bytes) => this.#output += decoder.decode(bytes),
      startTls: () => Promise.reject(new Error("no TLS in process")),
      compress: () => {},
      close: () => {},
    };
    const deps: SessionDeps = {
      checkLogin: () => Promise.reject(new Error("logged in already")),
      recheck: () => Promise.resolve(principal),
      mailboxes: imapMailboxes(t.services),
      messages: t.services.imapMailboxes,
      metrics: new ImapMetrics(),
      log: getLogger(["postern", "imap"]),
      limits: { maxErrors: 1000 },
      version: "test",
    };
    const limits = { maxLine: 65_536, maxAppendLiteral: 1 << 20, maxLiteral: 65_536 };
    this.session = new ImapSession(io, createCommandDecoder(limits), deps, COMMANDS);
    this.session.state = "authenticated";
    this.session.principal = principal;
    this.session.authorization = "test";
  }

  /**
   * Selects `name` (as LIST shows it) as SELECT or EXAMINE would leave the session, without the
   * command: the IMAP mail service's selection of the same mailbox, by whatever name it knows it.
   */
  async select(name: string, options: { examine?: boolean } = {}): Promise<SelectedMailbox> {
    const { deps, principal } = this.session;
    const viewer = principal!.accountId;
    const named = (await namedMailboxes(deps.mailboxes, viewer)).find((m) => sameName(m.path, name));
    if (!named) throw new Error(`No mailbox "${name}"`);
    const entry = (await this.services.imapMailboxes.list(viewer)).find((e) =>
      e.mailboxId === named.mailbox.id
    );
    const selection = await deps.messages.select(viewer, entry!.name, options);
    this.session.selected = new SelectedMailbox(selection);
    this.session.state = "selected";
    return this.session.selected;
  }

  /**
   * Sends one command (`text` without tag; literals written `{n+}` inline) or raw bytes, and returns
   * every line written up to the tagged answer, the answer last.
   */
  async command(text: string | Uint8Array): Promise<string[]> {
    const tag = `t${++this.#tag}`;
    const head = encoder.encode(`${tag} `);
    const body = typeof text === "string" ? encoder.encode(text) : text;
    const bytes = new Uint8Array([...head, ...body, 0x0d, 0x0a]);
    for (const event of this.session.decoder.push(bytes)) await this.session.handle(event);
    const lines = this.#output.split("\r\n").filter((line) => line !== "");
    this.#output = "";
    return lines;
  }
}

/** An APPEND command's text with the message as a non-synchronizing literal. */
export function appendCommand(mailbox: string, message: string, extra = ""): string {
  const size = encoder.encode(message).length;
  return `APPEND "${mailbox}"${extra ? ` ${extra}` : ""} {${size}+}\r\n${message}`;
}
