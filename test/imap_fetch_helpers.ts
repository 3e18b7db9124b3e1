/**
 * Helpers of the FETCH and STORE tests: an IMAP session in process on a test app's real store with a
 * mailbox selected (its output captured), a minimal SELECT/EXAMINE for the dialogues with real
 * clients until the selected state's own SELECT is in the dispatch table, and an IMAP listener in
 * process on the test app (so a test can also call the app's JMAP API).
 */
import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { resolveConfig } from "../src/config/mod.ts";
import type { CommandBody, ImapCommand } from "../src/imap/command.ts";
import { COMMANDS } from "../src/imap/commands/table.ts";
import { createCommandDecoder } from "../src/imap/decoder.ts";
import { ImapMetrics } from "../src/imap/metrics.ts";
import { atom } from "../src/imap/response.ts";
import { SelectedMailbox } from "../src/imap/selected.ts";
import { ImapSession, type Outcome, type SessionIo } from "../src/imap/session.ts";
import { decodeEvents, TEST_LIMITS } from "../src/imap/test_helpers.ts";
import { startImap } from "../src/imap_listener.ts";
import { decodeId } from "../src/model/ids.ts";
import { distinctMessage } from "./email_helpers.ts";
import type { TestApp } from "./helpers.ts";
import type { Who } from "./mail_helpers.ts";
import { selfSignedCertificate } from "./smtp_submission_helpers.ts";

/** A connection that keeps what the session writes. */
export class CapturedIo implements SessionIo {
  readonly client = "127.0.0.1";
  readonly secure = true;
  readonly starttls = false;
  readonly out: Uint8Array[] = [];
  write(bytes: Uint8Array): void {
    this.out.push(bytes);
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  startTls(): Promise<void> {
    return Promise.resolve();
  }
  compress(): void {}
  close(): void {}
  /** Everything written since the last call, as Latin-1 text (one char per octet). */
  take(): string {
    let text = "";
    for (const chunk of this.out.splice(0)) {
      for (let i = 0; i < chunk.length; i += 8192) {
        text += String.fromCharCode(...chunk.subarray(i, i + 8192));
      }
    }
    return text;
  }
}

/** A session logged in as `who` with `name` selected (EXAMINEd with `examine`). */
export interface SelectedSession {
  session: ImapSession;
  io: CapturedIo;
  /** Runs one command (`a FETCH 1 (FLAGS)` without CRLF) and returns what was written, as text. */
  run(text: string): Promise<string>;
  /** Calls of the IMAP mail service by operation (`message` is a message's octets read). */
  calls: Record<string, number>;
}

/** Opens an in-process session on the test app's store for `who`, with `name` selected. */
export async function selectedSession(
  t: TestApp,
  who: Who,
  name = "INBOX",
  options: { examine?: boolean; enable?: string[] } = {},
): Promise<SelectedSession> {
  const accountId = decodeId(who.accountId)!;
  const principal = {
    accountId,
    name: who.emailAddress,
    roles: [],
    method: "password" as const,
    credentialId: null,
  };
  const io = new CapturedIo();
  const calls: Record<string, number> = {};
  const service = t.services.imapMailboxes;
  const messages = new Proxy(service, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls[String(property)] = (calls[String(property)] ?? 0) + 1;
        return value.apply(target, args);
      };
    },
  });
  const session = new ImapSession(io, createCommandDecoder(TEST_LIMITS), {
    checkLogin: () => Promise.reject(new Error("not used")),
    recheck: () => Promise.resolve(principal),
    mailboxes: {} as never,
    messages,
    metrics: new ImapMetrics(),
    log: getLogger(["postern", "imap"]),
    limits: { maxErrors: 1000 },
    version: "test",
  }, COMMANDS);
  session.principal = principal;
  session.authorization = "test";
  session.state = "selected";
  session.selected = new SelectedMailbox(
    await t.services.imapMailboxes.select(accountId, name, { examine: options.examine }),
  );
  for (const e of options.enable ?? []) session.enabled.add(e);
  return {
    session,
    io,
    calls,
    async run(text: string) {
      for (const event of decodeEvents(text)) await session.handle(event);
      return io.take();
    },
  };
}

/**
 * SELECT and EXAMINE enough for a client to fetch and store (EXISTS, FLAGS, UIDVALIDITY, UIDNEXT,
 * HIGHESTMODSEQ, READ-WRITE or READ-ONLY), registered only while the dispatch table has none.
 */
export function registerTestSelect(): void {
  const run = async (session: ImapSession, command: ImapCommand): Promise<Outcome> => {
    const body = command.body as CommandBody & { name: "SELECT" | "EXAMINE" };
    const selection = await session.deps.messages.select(session.principal!.accountId, body.mailbox, {
      examine: body.name === "EXAMINE",
    });
    session.selected = new SelectedMailbox(selection);
    session.state = "selected";
    if (body.condstore) session.enabled.add("CONDSTORE");
    session.untagged([selection.messages.length, atom("EXISTS")]);
    session.untagged([atom("FLAGS"), selection.flags.map(atom)]);
    const ok = (name: string, values: unknown[]) =>
      session.status({ status: "OK", code: { name, values: values as never }, text: name });
    ok("PERMANENTFLAGS", [selection.permanentFlags.map(atom)]);
    ok("UIDVALIDITY", [selection.uidValidity]);
    ok("UIDNEXT", [selection.uidNext]);
    ok("HIGHESTMODSEQ", [BigInt(selection.highestModseq)]);
    return {
      tag: command.tag,
      status: "OK",
      code: { name: selection.readOnly ? "READ-ONLY" : "READ-WRITE" },
      text: `${body.name} completed`,
    };
  };
  const states = ["authenticated", "selected"] as const;
  COMMANDS.SELECT ??= { states, run };
  COMMANDS.EXAMINE ??= { states, run };
}

/** IMAP listeners (143 STARTTLS, 993) in process on the test app's services. */
export async function startImapOnApp(
  t: TestApp,
  /** Limits other than the configuration's (an idle timeout below its minimum, for a test). */
  limits: { idleTimeoutSeconds?: number } = {},
): Promise<{ imapPort: number; imapsPort: number; certPem: string; close(): Promise<void> }> {
  const files = await selfSignedCertificate(t.dataDir);
  const cert = await Deno.readTextFile(files.cert);
  const key = await Deno.readTextFile(files.key);
  const config = resolveConfig({ data: t.dataDir }, {
    POSTERN_IMAP_LISTEN: "127.0.0.1:0",
    POSTERN_IMAPS_LISTEN: "127.0.0.1:0",
    POSTERN_TLS_CERT: files.cert,
    POSTERN_TLS_KEY: files.key,
  });
  const source = () => ({ current: () => Promise.resolve({ files: { cert, key }, changed: false }) });
  const listeners = await startImap(
    { ...config, imap: { ...config.imap, ...limits } },
    t.services,
    new ImapMetrics(),
    source,
  );
  assert.ok(listeners.imap && listeners.imaps, "IMAP listeners did not start");
  return {
    imapPort: listeners.imap.addr.port,
    imapsPort: listeners.imaps.addr.port,
    certPem: cert,
    async close() {
      await Promise.all([listeners.imap?.close(), listeners.imaps?.close()]);
    },
  };
}

/** A distinct message (a new Message-ID each time), from Carol by name. */
export function mail(subject = "Hello", body = "Body"): Uint8Array<ArrayBuffer> {
  return distinctMessage(subject, body, "Carol <carol@example.net>");
}

/** Appends a message to `who`'s mailbox through the IMAP service; returns its UID. */
export async function append(
  t: TestApp,
  who: Who,
  name: string,
  options: { message?: Uint8Array; flags?: string[]; internalDate?: number } = {},
): Promise<number> {
  const imap = t.services.imapMailboxes;
  const entry = (await imap.resolve(decodeId(who.accountId)!, name))!;
  const ref = { accountId: entry.accountId, mailboxId: entry.mailboxId };
  const input = {
    message: options.message ?? mail(),
    flags: options.flags,
    internalDate: options.internalDate,
  };
  return (await imap.append(decodeId(who.accountId)!, ref, input)).uid;
}
