/**
 * Forwarding of incoming mail to the addresses an account names (x:Account forwardTo), the way a
 * Postfix virtual alias to an outside address or a Stalwart Sieve redirect does it, and the return
 * path of its bounces. Read in order:
 *
 * 1. What is not forwarded: mail filed in Junk (a forward of spam would spend this server's
 *    reputation; mail failing DMARC under p=reject was refused at DATA already), and mail that
 *    carries a `Delivered-To:` of the same address already (it came back: a forwarding loop).
 * 2. The forwarded copy is the message as received with this server's trace on top
 *    (`Delivered-To:`, Authentication-Results, Received), body untouched, so the original DKIM
 *    signature still verifies; then an ARC set (arc_sealing.ts) carries the MX's results.
 * 3. Its envelope sender is the SRS0 form of the original sender at the forwarding domain (srs.ts),
 *    so SPF at the receiver checks this server against that domain; a null sender stays null.
 * 4. The copy is a "forward" row of the outbound queue, written by inbound.ts in the transaction that
 *    stores the local copy (or instead of it: forwardKeepCopy false), so a 250 means both.
 * 5. A bounce to a valid SRS0 address of a local domain is relayed to the original sender, also as a
 *    "forward" row; an invalid or expired one is an unknown user.
 */
import type { ArcSealer } from "./arc_sealing.ts";
import type { Account } from "./deps.ts";
import type { NewQueuedMessage } from "../store/mod.ts";
import { Srs, type SrsReverse } from "./srs.ts";

/** One recipient account's forward, as inbound.ts sees it. */
export interface ForwardInput {
  account: Account;
  /** The address the message came to (the account's, a +tag or alias included). */
  address: string;
  /** The envelope sender ("" for the null sender). */
  mailFrom: string;
  /** The message as received. */
  message: Uint8Array;
  /** This server's trace fields for the address: Authentication-Results (if checked) and Received. */
  trace: string;
  /** Whether the copy is filed in Junk. */
  junk: boolean;
}

/** Plans forwards and reverses SRS addresses. */
export class Forwarding {
  constructor(
    private readonly srs: Srs,
    private readonly sealer?: ArcSealer,
    private readonly log: (message: string) => void = () => {},
  ) {}

  /** The original sender behind the local part of an SRS0 address of this server. */
  reverse(local: string, now = Date.now()): SrsReverse | undefined {
    return Srs.isSrsLocalPart(local) ? this.srs.reverse(local, now) : undefined;
  }

  /** Where a bounce to `mailFrom` goes: the sender behind a valid SRS address of ours, else itself. */
  returnPath(mailFrom: string): string {
    const reversed = this.reverse(mailFrom.slice(0, Math.max(mailFrom.lastIndexOf("@"), 0)));
    return reversed?.ok ? reversed.address : mailFrom;
  }

  /** The queue row forwarding the account's copy, or undefined when nothing is forwarded. */
  async plan(input: ForwardInput, now = Date.now()): Promise<NewQueuedMessage | undefined> {
    const { account, address } = input;
    if (account.forwardTo.length === 0) return undefined;
    if (input.junk) return undefined;
    if (deliveredTo(input.message).some((a) => a === address.toLowerCase() || a === account.primaryAddress)) {
      this.log(`Not forwarding mail to ${address}: it was delivered to that address before (a loop)`);
      return undefined;
    }
    const domain = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
    const head = new TextEncoder().encode(`Delivered-To: ${address}\r\n${input.trace}`);
    let message: Uint8Array = new Uint8Array(head.length + input.message.length);
    message.set(head);
    message.set(input.message, head.length);
    const authResults = authenticationResults(input.trace);
    if (this.sealer && authResults) {
      message = await this.sealer.seal({ message, domain, authResults }, new Date(now));
    }
    return {
      accountId: account.id,
      submissionId: null,
      kind: "forward",
      mailFrom: this.srs.forward(input.mailFrom, domain, now),
      message,
      recipients: [...account.forwardTo],
      createdAt: now,
    };
  }

  /** The queue row relaying a bounce that came to an SRS address back to the original sender. */
  relay(input: { to: string; mailFrom: string; message: Uint8Array; trace: string }, now = Date.now()) {
    const head = new TextEncoder().encode(input.trace);
    const message = new Uint8Array(head.length + input.message.length);
    message.set(head);
    message.set(input.message, head.length);
    return {
      accountId: null,
      submissionId: null,
      kind: "forward",
      mailFrom: input.mailFrom,
      message,
      recipients: [input.to],
      createdAt: now,
    } satisfies NewQueuedMessage;
  }
}

/** The addresses of the message's Delivered-To fields, lower-cased. */
function deliveredTo(message: Uint8Array): string[] {
  const text = new TextDecoder("latin1").decode(message.subarray(0, headerEnd(message)));
  return [...text.matchAll(/^delivered-to:[ \t]*<?([^\s>]+)>?/gim)].map((m) => m[1].toLowerCase());
}

/** The payload of the Authentication-Results field in `trace`, unfolded; undefined without one. */
export function authenticationResults(trace: string): string | undefined {
  const match = /^Authentication-Results:[ \t]*((?:.|\r\n[ \t])*)/im.exec(trace);
  return match?.[1].replace(/\r\n([ \t])/g, "$1").trim();
}

/** The offset of the empty line ending the header block (or the whole length). */
function headerEnd(message: Uint8Array): number {
  for (let i = 0; i + 3 < message.length; i++) {
    if (message[i] === 13 && message[i + 1] === 10 && message[i + 2] === 13 && message[i + 3] === 10) {
      return i;
    }
  }
  return message.length;
}
