/**
 * Reading a delivery status notification someone else's server wrote (RFC 3464 inside an RFC 6522
 * `multipart/report; report-type=delivery-status`), as Postfix, Exim, Gmail, Stalwart and this
 * server write them: the per-message fields, one entry per recipient, and the Message-ID of the
 * message it is about (from the returned headers or message). Tolerant like every reader here: a
 * field it does not know is skipped, and what is not a report at all is null, never an error.
 */
import { decodeTransfer, lastHeader, messageHeaders, type MimePart, parseMime } from "./mime/mod.ts";

/** One recipient of a report (RFC 3464 §2.3). */
export interface ParsedDsnRecipient {
  /** The address without its type ("rfc822;"), as given. */
  finalRecipient: string;
  originalRecipient?: string;
  /** failed, delayed, delivered, relayed or expanded, in lower case. */
  action: string;
  /** The RFC 3463 code ("5.1.1"). */
  status: string;
  /** The Diagnostic-Code without its type, and that type in lower case ("smtp"). */
  diagnosticCode?: string;
  diagnosticType?: string;
  /** The Remote-MTA's host name (without its type or a comment). */
  remoteMta?: string;
  lastAttemptDate?: string;
  willRetryUntil?: string;
}

/** A report as read. */
export interface ParsedDsn {
  reportingMta?: string;
  originalEnvelopeId?: string;
  arrivalDate?: string;
  recipients: ParsedDsnRecipient[];
  /** The Message-ID (with its angle brackets) of the message the report is about, if returned. */
  originalMessageId?: string;
}

/** The delivery report in `message`, or null when it holds none with at least one usable recipient. */
export function parseDsn(message: Uint8Array): ParsedDsn | null {
  const root = parseMime(message);
  const report = findReport(root);
  if (!report?.subParts) return null;
  const statusPart = report.subParts.find((p) =>
    p.type === "message/delivery-status" || p.type === "message/global-delivery-status"
  );
  if (!statusPart) return null;
  const [perMessage, ...perRecipient] = fieldGroups(textOf(message, statusPart));
  if (!perMessage) return null;
  const recipients = perRecipient.map(recipientOf).filter((r): r is ParsedDsnRecipient => r !== undefined);
  if (recipients.length === 0) return null;
  const dsn: ParsedDsn = { recipients };
  const reportingMta = perMessage.get("reporting-mta");
  if (reportingMta) dsn.reportingMta = withoutType(reportingMta).value;
  const envelopeId = perMessage.get("original-envelope-id");
  if (envelopeId) dsn.originalEnvelopeId = envelopeId;
  const arrival = perMessage.get("arrival-date");
  if (arrival) dsn.arrivalDate = arrival;
  const originalId = originalMessageId(message, report.subParts);
  if (originalId) dsn.originalMessageId = originalId;
  return dsn;
}

/** Whether a message's header fields say it is a delivery report (a cheap test before parsing it). */
export function looksLikeDsn(message: Uint8Array): boolean {
  const type = lastHeader(messageHeaders(message), "content-type") ?? "";
  return /^\s*multipart\/report\s*;/i.test(type) && /report-type\s*=\s*"?delivery-status"?/i.test(type);
}

/** The report part: the root, or (as some forwarders wrap it) the first one nested in a multipart. */
function findReport(part: MimePart, depth = 0): MimePart | undefined {
  if (part.type === "multipart/report" && part.params["report-type"]?.toLowerCase() === "delivery-status") {
    return part;
  }
  if (!part.subParts || depth >= 3) return undefined;
  for (const child of part.subParts) {
    const found = findReport(child, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function textOf(message: Uint8Array, part: MimePart): string {
  return new TextDecoder().decode(decodeTransfer(message, part).bytes);
}

/**
 * The blocks of fields of a delivery-status body (RFC 3464 §2.1: separated by empty lines), each
 * as lower-case name → unfolded value; the first field of a name wins.
 */
function fieldGroups(text: string): Map<string, string>[] {
  const groups: Map<string, string>[] = [];
  let current: Map<string, string> | undefined;
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") {
      current = undefined;
      last = undefined;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      if (current && last) current.set(last, `${current.get(last)} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    if (!current) groups.push(current = new Map());
    const name = line.slice(0, colon).trim().toLowerCase();
    if (current.has(name)) {
      last = undefined;
      continue;
    }
    current.set(name, line.slice(colon + 1).trim());
    last = name;
  }
  return groups;
}

/** `type; value` split (RFC 3464 address-type, diagnostic-type, mta-name-type). */
function withoutType(field: string): { type?: string; value: string } {
  const semicolon = field.indexOf(";");
  if (semicolon < 0) return { value: field.trim() };
  return { type: field.slice(0, semicolon).trim().toLowerCase(), value: field.slice(semicolon + 1).trim() };
}

/** A recipient block, or undefined without the fields RFC 3464 requires (Final-Recipient, Action, Status). */
function recipientOf(fields: Map<string, string>): ParsedDsnRecipient | undefined {
  const final = fields.get("final-recipient");
  const action = fields.get("action")?.trim().toLowerCase().split(/\s/)[0];
  const status = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(fields.get("status") ?? "")?.[1];
  if (!final || !action || !status) return undefined;
  const finalRecipient = address(withoutType(final).value);
  if (!finalRecipient) return undefined;
  const recipient: ParsedDsnRecipient = { finalRecipient, action, status };
  const original = fields.get("original-recipient");
  if (original) recipient.originalRecipient = address(withoutType(original).value);
  const diagnostic = fields.get("diagnostic-code");
  if (diagnostic) {
    const { type, value } = withoutType(diagnostic);
    recipient.diagnosticCode = value;
    if (type) recipient.diagnosticType = type;
  }
  const remote = fields.get("remote-mta");
  // The host name alone: Gmail adds "(address, the server for the domain …)", some a final dot.
  if (remote) recipient.remoteMta = withoutType(remote).value.split(/[\s(]/)[0].replace(/\.$/, "");
  const last = fields.get("last-attempt-date");
  if (last) recipient.lastAttemptDate = last;
  const until = fields.get("will-retry-until");
  if (until) recipient.willRetryUntil = until;
  return recipient;
}

/** An address as written in a report, without angle brackets or a trailing comment. */
function address(value: string): string {
  return value.replace(/\s*\(.*\)\s*$/, "").replace(/^<(.*)>$/, "$1").trim();
}

/** The Message-ID of the returned message or headers (text/rfc822-headers, message/rfc822, …). */
function originalMessageId(message: Uint8Array, parts: MimePart[]): string | undefined {
  const returned = parts.find((p) =>
    ["text/rfc822-headers", "message/rfc822", "message/global", "message/global-headers"].includes(p.type)
  );
  if (!returned) return undefined;
  const headers = messageHeaders(decodeTransfer(message, returned).bytes);
  return lastHeader(headers, "message-id")?.match(/<[^<>\s]+>/)?.[0];
}
