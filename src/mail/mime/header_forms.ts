/**
 * The parsed forms of a header field value (RFC 8621 §4.1.2): Raw, Text, Addresses,
 * GroupedAddresses, MessageIds, Date and URLs. Each takes the raw value and never throws: a value
 * that does not parse is null (MessageIds, Date, URLs) or what could be read of it (addresses).
 */
import addressparser from "nodemailer/lib/addressparser/index.js";
import { decodeWords } from "./parameters.ts";

/** RFC 8621 §4.1.2.3 EmailAddress. */
export interface EmailAddress {
  name: string | null;
  email: string;
}

/** RFC 8621 §4.1.2.4 EmailAddressGroup. */
export interface EmailAddressGroup {
  name: string | null;
  addresses: EmailAddress[];
}

/** The forms a header can be asked for. */
export const HEADER_FORMS = [
  "Raw",
  "Text",
  "Addresses",
  "GroupedAddresses",
  "MessageIds",
  "Date",
  "URLs",
] as const;
export type HeaderForm = typeof HEADER_FORMS[number];

/** The value in the given form. */
export function headerAs(raw: string, form: HeaderForm): unknown {
  switch (form) {
    case "Raw":
      return raw;
    case "Text":
      return asText(raw);
    case "Addresses":
      return asAddresses(raw);
    case "GroupedAddresses":
      return asGroupedAddresses(raw);
    case "MessageIds":
      return asMessageIds(raw);
    case "Date":
      return asDate(raw);
    case "URLs":
      return asURLs(raw);
  }
}

/** Folding removed, trimmed, encoded words decoded, NFC (RFC 8621 §4.1.2.2). */
export function asText(raw: string): string {
  return decodeWords(unfold(raw).trim()).normalize("NFC");
}

function unfold(raw: string): string {
  return raw.replace(/\r?\n(?=[ \t])/g, "");
}

interface ParsedAddress {
  name?: string;
  address?: string;
  group?: ParsedAddress[];
}

function parseList(raw: string): ParsedAddress[] {
  try {
    return addressparser(unfold(raw), { flatten: false }) as ParsedAddress[];
  } catch {
    return [];
  }
}

function toAddress(entry: ParsedAddress): EmailAddress {
  const name = decodeWords(entry.name ?? "").trim().normalize("NFC");
  return { name: name || null, email: (entry.address ?? "").trim() };
}

/** Every address, groups flattened (RFC 8621 §4.1.2.3). */
export function asAddresses(raw: string): EmailAddress[] {
  return parseList(raw).flatMap((entry) =>
    entry.group
      ? entry.group.map(toAddress)
      : entry.address !== undefined || entry.name
      ? [toAddress(entry)]
      : []
  ).filter((a) => a.email !== "" || a.name !== null);
}

/** Addresses by group; addresses outside any group are gathered in groups named null (§4.1.2.4). */
export function asGroupedAddresses(raw: string): EmailAddressGroup[] {
  const groups: EmailAddressGroup[] = [];
  for (const entry of parseList(raw)) {
    if (entry.group) {
      const name = decodeWords(entry.name ?? "").trim().normalize("NFC");
      groups.push({ name: name || null, addresses: entry.group.map(toAddress) });
      continue;
    }
    const address = toAddress(entry);
    if (address.email === "" && address.name === null) continue;
    const last = groups.at(-1);
    if (last && last.name === null) last.addresses.push(address);
    else groups.push({ name: null, addresses: [address] });
  }
  return groups;
}

/** The msg-ids without angle brackets, or null when there is none (§4.1.2.5). */
export function asMessageIds(raw: string): string[] | null {
  const text = unfold(raw);
  const ids = [...text.matchAll(/<\s*([^<>\s]+?)\s*>/g)].map((m) => m[1]);
  if (ids.length) return ids;
  // Bare ids (no brackets) are common in the wild; take words that look like one.
  const bare = text.split(/[\s,]+/).filter((w) => /^[^<>@\s]+@[^<>@\s]+$/.test(w));
  return bare.length ? bare : null;
}

/** Every <URL> of a List-* style value, or null (§4.1.2.7). */
export function asURLs(raw: string): string[] | null {
  const urls = [...unfold(raw).matchAll(/<([^<>]*)>/g)].map((m) => m[1].replace(/\s+/g, ""));
  return urls.length ? urls : null;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
/** RFC 5322 §4.3 obsolete zones, in minutes east of UTC; unknown letters count as UTC. */
const ZONES: Record<string, number> = {
  ut: 0,
  gmt: 0,
  z: 0,
  edt: -240,
  est: -300,
  cdt: -300,
  cst: -360,
  mdt: -360,
  mst: -420,
  pdt: -420,
  pst: -480,
};

/**
 * An RFC 5322 date-time as an RFC 3339 date with its own offset, e.g. "2014-10-30T14:12:00+08:00"
 * (JMAP's Date type keeps the zone the sender wrote); null when it does not parse (§4.1.2.6).
 */
export function asDate(raw: string): string | null {
  const text = unfold(raw).replace(/\([^()]*\)/g, " ").trim().toLowerCase();
  const match =
    /^(?:[a-z]{3},?\s*)?(\d{1,2})\s+([a-z]{3})[a-z]*\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[a-z]+)?/
      .exec(text);
  if (!match) return null;
  const [, dayText, monthText, yearText, hourText, minuteText, secondText, zoneText] = match;
  const month = MONTHS.indexOf(monthText);
  let year = Number(yearText);
  // RFC 5322 §4.3: two-digit years below 50 are 20xx, others 19xx; three digits add 1900.
  if (yearText.length === 2) year += year < 50 ? 2000 : 1900;
  else if (yearText.length === 3) year += 1900;
  const day = Number(dayText);
  const hour = Number(hourText);
  const minute = Number(minuteText);
  const second = Number(secondText ?? 0);
  if (month < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  let offset = 0;
  if (zoneText && /^[+-]\d{4}$/.test(zoneText)) {
    const hours = Number(zoneText.slice(1, 3));
    const minutes = Number(zoneText.slice(3));
    if (hours > 23 || minutes > 59) return null;
    offset = (zoneText[0] === "-" ? -1 : 1) * (hours * 60 + minutes);
  } else if (zoneText) {
    offset = ZONES[zoneText] ?? 0;
  }
  const local = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  const check = new Date(local);
  if (check.getUTCDate() !== day) return null;
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${pad(year, 4)}-${pad(month + 1)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${
    pad(Math.min(second, 59))
  }` +
    (offset === 0 ? "Z" : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`);
}

/** The instant of a Date value, in ms since the epoch. */
export function dateToMs(date: string): number {
  return Date.parse(date);
}
