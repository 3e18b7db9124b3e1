/**
 * What an email keeps of its message at import (RFC 8621 §4.1.2–4.1.4): the header properties, the
 * subject for sorting and threading, the preview and hasAttachment. Parsed once; lists never parse.
 */
import {
  asAddresses,
  asDate,
  asMessageIds,
  asText,
  bodyText,
  type EmailAddress,
  type EmailBody,
  emailBody,
  hasAttachment,
  lastHeader,
  partName,
  previewOf,
} from "./mime/mod.ts";
import type { SearchText } from "../store/mod.ts";

/** The header properties of an Email (RFC 8621 §4.1.3), as stored and answered. */
export interface HeaderProperties {
  messageId: string[] | null;
  inReplyTo: string[] | null;
  references: string[] | null;
  sender: EmailAddress[] | null;
  from: EmailAddress[] | null;
  to: EmailAddress[] | null;
  cc: EmailAddress[] | null;
  bcc: EmailAddress[] | null;
  replyTo: EmailAddress[] | null;
  subject: string | null;
}

/** The facts of one message. */
export interface MessageFacts {
  headers: HeaderProperties;
  subject: string | null;
  sentAt: string | null;
  baseSubject: string;
  fromSort: string;
  toSort: string;
  hasAttachment: boolean;
  preview: string;
  /** Its own Message-IDs and those it names: the keys that thread it. */
  threadIds: string[];
  /** What full-text search looks in. */
  search: SearchText;
}

/** Body text indexed per message at most (characters): enough for any real conversation. */
const MAX_INDEXED_BODY = 200_000;

const ADDRESS_HEADERS = {
  sender: "sender",
  from: "from",
  to: "to",
  cc: "cc",
  bcc: "bcc",
  replyTo: "reply-to",
} as const;

/**
 * Whether prepending trace fields (Return-Path, Delivered-To, Received, Authentication-Results: none
 * of them a field the facts read) to `message` leaves its facts as they are, so facts gathered
 * before the trace was written can be stored. Not when the message starts with white space: that
 * line would continue the last trace field (RFC 5322 §2.2.3 folding).
 */
export function traceKeepsFacts(message: Uint8Array): boolean {
  return message[0] !== 0x20 && message[0] !== 0x09;
}

/** Parses the message and gathers its facts. */
export function messageFacts(message: Uint8Array): MessageFacts {
  return factsOf(emailBody(message));
}

/**
 * How many LFs of `bytes` no CR precedes (a first byte LF is one): IMAP serves each as CRLF, so a
 * message's IMAP size is its size plus these.
 */
export function bareLineFeeds(bytes: Uint8Array): number {
  let bare = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
    if (i === 0 || bytes[i - 1] !== 0x0d) bare++;
  }
  return bare;
}

/** What an import keeps of a parsed message: its facts, and its bare LFs (for the IMAP size). */
export interface ParsedFacts {
  facts: MessageFacts;
  bareLineFeeds: number;
}

/** Parses the message and gathers what an import keeps of it. */
export function parsedFacts(message: Uint8Array): ParsedFacts {
  return { facts: messageFacts(message), bareLineFeeds: bareLineFeeds(message) };
}

/** The facts of a message already parsed. */
export function factsOf(body: EmailBody): MessageFacts {
  const headers = body.root.headers;
  const raw = (name: string) => lastHeader(headers, name);
  const ids = (name: string) => {
    const value = raw(name);
    return value === undefined ? null : asMessageIds(value);
  };
  const addresses = Object.fromEntries(
    Object.entries(ADDRESS_HEADERS).map(([property, name]) => {
      const value = raw(name);
      return [property, value === undefined ? null : asAddresses(value)];
    }),
  ) as Record<keyof typeof ADDRESS_HEADERS, EmailAddress[] | null>;
  const subjectRaw = raw("subject");
  const subject = subjectRaw === undefined ? null : asText(subjectRaw);
  const dateRaw = raw("date");
  const properties: HeaderProperties = {
    messageId: ids("message-id"),
    inReplyTo: ids("in-reply-to"),
    references: ids("references"),
    ...addresses,
    subject,
  };
  const firstOf = (list: EmailAddress[] | null) => {
    const first = list?.[0];
    return (first ? first.name ?? first.email : "").toLowerCase();
  };
  const addressText = (list: EmailAddress[] | null) =>
    (list ?? []).map((a) => `${a.name ?? ""} ${a.email}`).join(" ");
  const text = indexedBodyText(body);
  return {
    search: {
      subject: subject ?? "",
      from: addressText(properties.from),
      to: addressText(properties.to),
      cc: addressText(properties.cc),
      bcc: addressText(properties.bcc),
      body: text,
      attachments: body.attachments.map((p) => partName(p) ?? "").filter(Boolean).join(" "),
    },
    headers: properties,
    subject,
    sentAt: dateRaw === undefined ? null : asDate(dateRaw),
    baseSubject: baseSubject(subject ?? ""),
    fromSort: firstOf(properties.from),
    toSort: firstOf(properties.to),
    hasAttachment: hasAttachment(body),
    preview: previewOf(text),
    threadIds: [
      ...new Set([
        ...(properties.messageId ?? []),
        ...(properties.inReplyTo ?? []),
        ...(properties.references ?? []),
      ]),
    ],
  };
}

/** The body text the search index holds for a message (and SearchSnippet marks). */
export function indexedBodyText(body: EmailBody): string {
  return bodyText(body, MAX_INDEXED_BODY);
}

/**
 * The subject without reply and forward prefixes or list tags (RFC 5256 §2.1, simplified), folded to
 * lower case: "Re: [team] Fwd: Plans" and "plans" are one conversation. "Auto:" is the prefix of
 * automatic replies (RFC 3834 §3.1.5), which join the conversation they answer.
 */
export function baseSubject(subject: string): string {
  let text = subject.replace(/\s+/g, " ").trim();
  for (;;) {
    const next = text
      .replace(/^(re|fwd?|aw|wg|sv|vs|antw|tr|rif|r|auto)\s*(\[\d+\])?\s*:\s*/i, "")
      .replace(/^\[[^\]]*\]\s*/, "")
      .replace(/\s*\(fwd\)$/i, "")
      .trim();
    if (next === text) break;
    text = next;
  }
  return text.toLowerCase();
}
