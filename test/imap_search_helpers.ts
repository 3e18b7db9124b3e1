/**
 * Helpers of the SEARCH/SORT/THREAD tests: an in-process IMAP session on the real services of a test
 * app with a mailbox selected (SELECT itself is another handler's), driven by command text, and the
 * crafted messages the tests and the Dovecot comparison share.
 */
import { getLogger } from "@logtape/logtape";
import { COMMANDS } from "../src/imap/commands/table.ts";
import { createCommandDecoder } from "../src/imap/decoder.ts";
import { ImapMetrics } from "../src/imap/metrics.ts";
import { ImapSession, type SessionDeps } from "../src/imap/session.ts";
import { SelectedMailbox } from "../src/imap/selected.ts";
import type { ImapMailboxes } from "../src/imap/mailbox_deps.ts";
import type { TestApp } from "./helpers.ts";

const decoderOut = new TextDecoder();

/** A session with a mailbox selected, as `viewerId` sees it. */
export class SearchSession {
  #out = "";
  #tag = 0;
  readonly session: ImapSession;
  readonly #decoder = createCommandDecoder({
    maxLine: 65_536,
    maxAppendLiteral: 1 << 20,
    maxLiteral: 65_536,
  });

  private constructor(t: TestApp, readonly viewerId: number) {
    const deps: SessionDeps = {
      checkLogin: () => Promise.reject(new Error("not in these tests")),
      recheck: () => Promise.resolve(this.session.principal!),
      mailboxes: {} as ImapMailboxes,
      messages: t.services.imapMailboxes,
      metrics: new ImapMetrics(),
      log: getLogger(["postern", "imap", "test"]),
      limits: { maxErrors: 1000 },
      version: "test",
    };
    const io = {
      client: "127.0.0.1",
      secure: true,
      starttls: false,
      write: (bytes: Uint8Array) => void (this.#out += decoderOut.decode(bytes)),
      startTls: () => Promise.resolve(),
      compress: () => {},
      close: () => {},
    };
    this.session = new ImapSession(io, this.#decoder, deps, COMMANDS);
  }

  /** Opens a session for `viewerId` with `mailbox` selected (read-write unless the rights say not). */
  static async open(t: TestApp, viewerId: number, mailbox: string): Promise<SearchSession> {
    const s = new SearchSession(t, viewerId);
    s.session.principal = {
      accountId: viewerId,
      name: `#${viewerId}`,
      roles: [],
      method: "password",
      credentialId: null,
    };
    s.session.authorization = "test";
    s.session.state = "selected";
    await s.reselect(t, mailbox);
    return s;
  }

  /** Selects `mailbox` again (the client's view catches up with what was added). */
  async reselect(t: TestApp, mailbox: string): Promise<void> {
    const selection = await t.services.imapMailboxes.select(this.viewerId, mailbox);
    this.session.selected = new SelectedMailbox(selection);
  }

  /** Sends `text` as a tagged command; returns the response lines up to the tagged one (inclusive). */
  async command(text: string): Promise<string[]> {
    const tag = `t${++this.#tag}`;
    this.#out = "";
    const events = this.#decoder.push(new TextEncoder().encode(`${tag} ${text}\r\n`));
    for (const event of events) await this.session.handle(event);
    return this.#out.split("\r\n").filter((line) => line !== "");
  }

  /** The untagged line starting with `* NAME` (undefined when none), and the tagged status. */
  async answer(text: string, name = "SEARCH"): Promise<{ data: string | undefined; status: string }> {
    const lines = await this.command(text);
    const data = lines.find((l) => l === `* ${name}` || l.startsWith(`* ${name} `));
    return { data, status: lines.at(-1)! };
  }

  /** The numbers of a `* SEARCH` or `* SORT` answer (throws when the command did not succeed). */
  async numbers(text: string, name = "SEARCH"): Promise<number[]> {
    const { data, status } = await this.answer(text, name);
    if (!/^t\d+ OK/.test(status)) throw new Error(`${text}: ${status}`);
    return (data ?? "").split(" ").slice(2).filter((w) => /^\d+$/.test(w)).map(Number);
  }
}

/** A message of the crafted mailbox: its text (LF line ends), flags, and internal date. */
export interface Crafted {
  text: string;
  flags: string[];
  internalDate: number;
}

const day = (iso: string) => Date.parse(`${iso}T12:00:00Z`);

/**
 * The crafted mailbox: addresses, subjects with reply prefixes and list tags, threads by References
 * and In-Reply-To, a message without Message-ID or Date, a multipart with an attachment, a
 * quoted-printable body, non-ASCII words, sizes and dates spread over days, and flags.
 */
export const CRAFTED: Crafted[] = [
  {
    text: "From: Alice Able <alice@example.org>\nTo: Bob <bob@example.net>\nCc: carol@example.com\n" +
      "Subject: Quarterly plans\nDate: Mon, 02 Jan 2023 10:00:00 +0000\nMessage-ID: <a1@x>\n" +
      "X-Project: apollo\n\nThe quarterly plans are attached below. Budget review on Friday.\n",
    flags: ["\\Seen"],
    internalDate: day("2023-01-02"),
  },
  {
    text: "From: Bob <bob@example.net>\nTo: Alice Able <alice@example.org>\nSubject: Re: Quarterly plans\n" +
      "Date: Tue, 03 Jan 2023 09:00:00 +0000\nMessage-ID: <b1@x>\nIn-Reply-To: <a1@x>\nReferences: <a1@x>\n\n" +
      "Thanks, the budget looks fine to me.\n",
    flags: ["\\Seen", "\\Answered"],
    internalDate: day("2023-01-03"),
  },
  {
    text:
      "From: Carol <carol@example.com>\nTo: Alice Able <alice@example.org>\nSubject: RE: [team] Quarterly plans\n" +
      "Date: Wed, 04 Jan 2023 08:00:00 +0000\nMessage-ID: <c1@x>\nReferences: <a1@x> <b1@x>\n\n" +
      "I disagree about the budget; let us talk.\n",
    flags: ["\\Flagged"],
    internalDate: day("2023-01-04"),
  },
  {
    text:
      "From: dave@example.org\nTo: zed@example.net\nSubject: Lunch?\nDate: Thu, 05 Jan 2023 12:00:00 +0000\n" +
      "Message-ID: <d1@x>\n\nPizza or sushi today? Meet at noon.\n",
    flags: [],
    internalDate: day("2023-01-05"),
  },
  {
    text: "From: Eve <eve@example.com>\nTo: Bob <bob@example.net>\nSubject: Fwd: Lunch?\n" +
      "Date: Fri, 06 Jan 2023 12:00:00 +0000\nMessage-ID: <e1@x>\n\nForwarding the lunch question.\n",
    flags: ["$Important"],
    internalDate: day("2023-01-06"),
  },
  {
    text: "From: frank@example.org\nTo: alice@example.org\nSubject: Invoice 2023-001\n" +
      "Date: Sat, 07 Jan 2023 12:00:00 +0000\nMessage-ID: <f1@x>\nMIME-Version: 1.0\n" +
      'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n' +
      'Please find the invoice attached.\n--b\nContent-Type: application/pdf; name="invoice.pdf"\n' +
      "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b--\n",
    flags: ["\\Deleted"],
    internalDate: day("2023-01-07"),
  },
  {
    text: "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>\nTo: alice@example.org\n" +
      "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=\nDate: Sun, 08 Jan 2023 12:00:00 +0100\n" +
      "Message-ID: <g1@x>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n" +
      "Content-Transfer-Encoding: quoted-printable\n\nViele Gr=C3=BC=C3=9Fe aus M=C3=BCnchen, sch=C3=B6nes Wetter.\n",
    flags: ["\\Draft"],
    internalDate: day("2023-01-08"),
  },
  {
    text: "From: alice@example.org\nTo: team@example.org\nSubject: Standup notes\n" +
      "Message-ID: <h1@x>\n\nNo date header on this one. Notes: deploy on Monday.\n",
    flags: ["\\Seen"],
    internalDate: day("2023-01-09"),
  },
  {
    text: "From: Bob <bob@example.net>\nTo: team@example.org\nSubject: Re: Standup notes\n" +
      "Date: Tue, 10 Jan 2023 12:00:00 +0000\nIn-Reply-To: <h1@x>\n\nNo message id here; deploy moved.\n",
    flags: [],
    internalDate: day("2023-01-10"),
  },
  {
    text: "From: Zoe <zoe@example.com>\nTo: alice@example.org\nSubject: a OR b NEAR c\n" +
      'Date: Wed, 11 Jan 2023 12:00:00 +0000\nMessage-ID: <i1@x>\n\nOperators: "quoted" * AND NOT a OR b.\n' +
      "x".repeat(2000) + "\n",
    flags: ["\\Seen", "\\Flagged"],
    internalDate: day("2023-01-11"),
  },
  {
    text: "From: Carol <carol@example.com>\nTo: Alice Able <alice@example.org>\nSubject: Lunch?\n" +
      "Date: Thu, 12 Jan 2023 12:00:00 +0000\nMessage-ID: <j1@x>\n\nAnother lunch thread, same subject.\n",
    flags: [],
    internalDate: day("2023-01-12"),
  },
  {
    text:
      "From: Bob <bob@example.net>\nTo: Alice Able <alice@example.org>\nSubject: Re: Re: Quarterly plans\n" +
      "Date: Fri, 13 Jan 2023 12:00:00 +0000\nMessage-ID: <k1@x>\nReferences: <a1@x> <missing@x>\n\n" +
      "Replying to a message this mailbox never saw.\n",
    flags: ["\\Seen"],
    internalDate: day("2023-01-13"),
  },
];

/** A crafted message as CRLF bytes. */
export function craftedBytes(m: Crafted): Uint8Array {
  return new TextEncoder().encode(m.text.replaceAll("\n", "\r\n"));
}
