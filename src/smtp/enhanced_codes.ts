/**
 * smtp-server adds an RFC 3463 enhanced status code to every reply, chosen from the reply code alone
 * for the replies of application handlers (550 is always 5.1.1). Postern's refusals need their own
 * (550 5.7.1 for relaying, 550 5.2.1 for a disabled mailbox, 452 4.5.3, 550 5.6.0): a reply text that
 * starts with an enhanced code (as replies.ts builds them) keeps it instead. The patch is on the
 * connection class of the pinned version (deno.json), applied once.
 */
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";

const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3}) (.*)$/s;
let applied = false;

/** Makes a handler's reply text "X.Y.Z text" be sent as its enhanced code and text. */
export function useOwnEnhancedCodes(): void {
  if (applied) return;
  applied = true;
  // deno-lint-ignore no-explicit-any
  const proto = SMTPConnection.prototype as any;
  const send = proto.send;
  proto.send = function (code: number, data: unknown, context?: unknown) {
    const match = typeof data === "string" && context === undefined ? ENHANCED.exec(data) : null;
    return match ? send.call(this, code, match[2], `=${match[1]}`) : send.call(this, code, data, context);
  };
  const choose = proto._getEnhancedStatusCode;
  proto._getEnhancedStatusCode = function (code: number, context?: unknown) {
    if (typeof context === "string" && context.startsWith("=")) {
      return this._useEnhancedStatusCodes() ? context.slice(1) : "";
    }
    return choose.call(this, code, context);
  };
}
