/**
 * Helpers of the IMAP compliance suite (test/imap_rfc*_test.ts): ONE `postern serve` per file, a
 * fresh account per test (so tests share the server and nothing else), and raw dialogues whose
 * answers are compared line for line with what the RFC text requires: `says` returns the untagged
 * lines and the tagged answer with its tag replaced by `TAG`.
 */
import { imapLogins, type ImapProcess, type ImapTalk, startImapProcess } from "./imap_helpers.ts";
import { createUsers, serverTarget, type Target, type Who } from "./mail_helpers.ts";

/** A raw dialogue of one account. */
export interface Dialogue {
  who: Who;
  talk: ImapTalk;
  /** Sends `command` (tag added) and returns every line up to its answer, that tag written `TAG`. */
  says(command: string): Promise<string[]>;
  /** The tagged answer only (`OK …`, `NO …`, `BAD …`). */
  answer(command: string): Promise<string>;
}

/** The shared server of one compliance file. */
export interface ComplianceServer {
  server: ImapProcess;
  target: Target;
  /** A new account (its own mailboxes) logged in over implicit TLS. */
  fresh(): Promise<Dialogue>;
  /** Another dialogue of an existing account. */
  again(who: Who): Promise<Dialogue>;
  stop(): Promise<void>;
}

let accounts = 0;

/** Starts the file's server. */
export async function startCompliance(prefix: string): Promise<ComplianceServer> {
  const dataDir = await Deno.makeTempDir({ prefix: `postern-${prefix}-` });
  const server = await startImapProcess(dataDir);
  const target = serverTarget(server.url);
  const logins = imapLogins(server);
  const dialogue = async (who: Who): Promise<Dialogue> => {
    const talk = await logins.login(who);
    const says = async (command: string) => {
      const lines = await talk.command(command);
      const last = lines.pop()!;
      return [...lines, last.replace(/^t\d+ /, "TAG ")];
    };
    return { who, talk, says, answer: async (command) => (await says(command)).at(-1)! };
  };
  return {
    server,
    target,
    async fresh() {
      const [who] = await createUsers(target, [`${prefix}${++accounts}`]);
      return await dialogue(who);
    },
    again: dialogue,
    async stop() {
      logins.closeAll();
      await server.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
    },
  };
}

/** A small message with CRLF line ends. */
export function mail(subject: string, body = "hello", headers = ""): string {
  return `From: Ann <ann@example.net>\r\nTo: bob@example.org\r\nSubject: ${subject}\r\n` +
    `Message-ID: <${crypto.randomUUID()}@example.net>\r\n${headers}\r\n${body}\r\n`;
}

/** `APPEND mailbox [extra] {n+}` followed by the message (RFC 7888 non-synchronizing literal). */
export function appendOf(mailbox: string, message: string, extra = ""): string {
  const size = new TextEncoder().encode(message).length;
  return `APPEND ${mailbox}${extra ? ` ${extra}` : ""} {${size}+}\r\n${message}`;
}
