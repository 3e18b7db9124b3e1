/**
 * Relaying through the smarthost: mail for recipients outside this server goes, as one SMTP
 * transaction, to the SMTP server the Smarthost settings name. Each recipient's outcome is its
 * delivery status (RFC 8621 §7): accepted by the smarthost is "unknown" (it is out of our hands;
 * no DSN comes back here), refused is "no" with the smarthost's reply, and a smarthost that cannot
 * be reached or fails the transaction refuses everyone with the reason.
 */
import { Buffer } from "node:buffer";
import nodemailer from "nodemailer";
import type { SmarthostSettings } from "../model/objects/mod.ts";
import type { DeliveryStatus } from "../store/mod.ts";
import { status } from "./delivery.ts";

interface SendInfo {
  accepted: (string | { address: string })[];
  rejected: (string | { address: string })[];
  rejectedErrors?: { recipient?: string; response?: string; message?: string }[];
  response: string;
}

/** Waits of one SMTP transaction besides its RCPTs: connect, greeting, EHLO ×2, AUTH ×3, MAIL, DATA ×2, QUIT. */
const REPLIES_BESIDES_RCPT = 11;

/** Sends through the configured smarthost. */
export class SmarthostRelay {
  constructor(private readonly settings: () => Promise<SmarthostSettings>) {}

  /** Whether a smarthost is configured. */
  async configured(): Promise<boolean> {
    return (await this.settings()).host !== "";
  }

  /**
   * The longest one relay can take as the settings stand: the timeout bounds the connection and
   * every reply, and a transaction waits for at most the greeting, EHLO (twice with STARTTLS), three
   * steps of AUTH, MAIL, one RCPT per recipient, DATA, the end of data and QUIT.
   */
  async longestSend(recipients: number): Promise<number> {
    return (await this.settings()).timeoutSeconds * 1000 * (REPLIES_BESIDES_RCPT + recipients);
  }

  /** Relays `message` from `mailFrom` ("" for a null sender) to `recipients`; each one's outcome. */
  async send(
    mailFrom: string,
    recipients: string[],
    message: Uint8Array,
  ): Promise<Record<string, DeliveryStatus>> {
    const settings = await this.settings();
    const where = `${settings.host}:${settings.port}`;
    const timeout = settings.timeoutSeconds * 1000;
    const transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.security === "tls",
      requireTLS: settings.security === "starttls",
      ignoreTLS: settings.security === "none",
      auth: settings.username ? { user: settings.username, pass: settings.password ?? "" } : undefined,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      name: mailFrom.split("@")[1] || undefined,
    });
    const everyone = (reply: string): Record<string, DeliveryStatus> =>
      Object.fromEntries(recipients.map((r) => [r, status("no", reply)]));
    try {
      const info = await transport.sendMail({
        envelope: { from: mailFrom, to: recipients },
        raw: Buffer.from(message.buffer, message.byteOffset, message.length),
      }) as SendInfo;
      const address = (a: string | { address: string }) =>
        (typeof a === "string" ? a : a.address).toLowerCase();
      const accepted = new Set(info.accepted.map(address));
      const refusals = new Map(
        (info.rejectedErrors ?? []).map((
          e,
        ) => [(e.recipient ?? "").toLowerCase(), e.response ?? e.message ?? ""]),
      );
      return Object.fromEntries(recipients.map((r) => {
        const key = r.toLowerCase();
        if (accepted.has(key)) return [r, status("unknown", `${info.response} (relayed through ${where})`)];
        return [r, status("no", refusals.get(key) || `550 5.0.0 Refused by the smarthost ${where}`)];
      }));
    } catch (error) {
      const e = error as { response?: string; code?: string; message?: string };
      // A reply of the smarthost (a refused sender, message or login) is kept as it came.
      if (e.response) return everyone(e.response);
      return everyone(
        `421 4.4.1 The smarthost ${where} could not be reached: ${e.message ?? e.code ?? error}`,
      );
    } finally {
      transport.close();
    }
  }
}
