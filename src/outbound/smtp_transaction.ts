/**
 * One SMTP transaction on an open session: MAIL, RCPT for each recipient, DATA and the message, with
 * each recipient's own result (smtp_session.ts opens and ends sessions around it).
 */
import { Buffer } from "node:buffer";
import type SMTPConnection from "nodemailer/lib/smtp-connection";
import type { RecipientResult } from "./types.ts";
import { describe, fromReply } from "./replies.ts";
import { hasEightBit } from "./smtp_extensions.ts";

/** What the transaction should carry. */
export interface SessionMessage {
  mailFrom: string;
  recipients: string[];
  message: Uint8Array;
  envelopeId?: string;
  dsnReturn?: "FULL" | "HDRS";
}

/**
 * unusable: no transaction was possible with this address (no connection, no or a bad greeting, TLS
 * failed); the next address or host is tried. answered: each recipient's result from this server.
 */
export type SessionOutcome =
  | { kind: "unusable"; reply: string; remoteMta: string; tlsFailure?: string; aborted?: boolean }
  | { kind: "answered"; results: Record<string, RecipientResult>; remoteMta: string; tls: boolean };

/** The fields of nodemailer's envelope read after a failed send (who was accepted, who refused). */
interface EnvelopeState {
  accepted?: string[];
  rejectedErrors?: { recipient?: string; response?: string }[];
}

/**
 * MAIL, RCPT ×n, DATA, the message: each recipient's result. `first` writes commands that go ahead of
 * MAIL in the same write (an RSET pipelined with the envelope, smtp_session.ts).
 */
export async function transaction(
  conn: SMTPConnection,
  mail: SessionMessage,
  remoteMta: string,
  first?: () => void,
): Promise<{ results: Record<string, RecipientResult>; completed: boolean }> {
  const message = Buffer.from(mail.message.buffer, mail.message.byteOffset, mail.message.length);
  const dsn = mail.envelopeId || mail.dsnReturn ? { envid: mail.envelopeId, ret: mail.dsnReturn } : undefined;
  const refused = new Map<string, string>();
  try {
    const info = await new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) => {
      // Corked: what `first` writes and nodemailer's envelope batch leave in one write.
      const socket = first && conn._socket ? conn._socket : undefined;
      socket?.cork();
      first?.();
      conn.send(
        {
          from: mail.mailFrom,
          to: mail.recipients,
          size: mail.message.length,
          use8BitMime: hasEightBit(mail.message),
          ...(dsn ? { dsn } : {}),
        },
        message,
        (error, info) => error ? reject(error) : resolve(info!),
      );
      socket?.uncork();
    });
    for (const e of info.rejectedErrors ?? []) refused.set(e.recipient ?? "", e.response ?? "");
    const results = Object.fromEntries(mail.recipients.map((r) => [
      r,
      fromReply(refused.has(r) ? refused.get(r)! : info.response, remoteMta),
    ]));
    return { results, completed: true };
  } catch (error) {
    const e = error as {
      response?: string;
      command?: string;
      rejectedErrors?: EnvelopeState["rejectedErrors"];
    };
    // nodemailer keeps the envelope's progress on the connection (internal, stable across 10.x).
    const state = (conn as unknown as { _envelope?: EnvelopeState })._envelope ?? {};
    for (const r of e.rejectedErrors ?? state.rejectedErrors ?? []) {
      refused.set(r.recipient ?? "", r.response ?? "");
    }
    const fallback = e.response
      ? e.response
      : `451 4.4.2 Connection with ${remoteMta} lost${
        e.command && e.command !== "CONN" ? ` after ${e.command}` : ""
      }: ${describe(error)}`;
    const results = Object.fromEntries(mail.recipients.map((r) => [
      r,
      fromReply(e.command !== "MAIL FROM" && refused.has(r) ? refused.get(r)! : fallback, remoteMta),
    ]));
    return { results, completed: false };
  }
}

/** Every recipient gets `reply` from this server. */
export function answeredAll(
  mail: SessionMessage,
  reply: string,
  remoteMta: string,
  tls: boolean,
): SessionOutcome {
  const results = Object.fromEntries(mail.recipients.map((r) => [r, fromReply(reply, remoteMta)]));
  return { kind: "answered", results, remoteMta, tls };
}
