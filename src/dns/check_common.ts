/** What the checks of `postern dns check` (check.ts, check_txt.ts) share: their result and helpers. */
import type { DnsRecord } from "../model/dns_records.ts";
import { type DnsResolver, isNoRecord } from "./resolver.ts";

/** What a record's check found. */
export type CheckStatus = "ok" | "missing" | "wrong" | "error";

/** One record's check. */
export interface RecordCheck {
  name: string;
  type: DnsRecord["type"];
  purpose: string;
  status: CheckStatus;
  /** The record as it should be (zone-file data). */
  expected: string;
  /** What is published at that name and type, one entry a record. */
  published: string[];
  /** Why, in one line. */
  detail: string;
}

/** What the checks of one domain share. */
export interface CheckContext {
  domain: string;
  /** The mail host (the expected MX target), without the final dot. */
  mailHost: string;
  resolver: DnsResolver;
}

/** The outcome of one check before the record's own fields are added. */
export type Verdict = Pick<RecordCheck, "status" | "published" | "detail">;

/** The answers of a look-up, none when the name or record does not exist; other errors propagate. */
export async function orNone<T>(query: Promise<T[]>): Promise<T[]> {
  try {
    return await query;
  } catch (error) {
    if (isNoRecord(error)) return [];
    throw error;
  }
}

/** A DNS name lowercased, without the final dot ("." becomes ""). */
export function bare(name: string | undefined): string {
  return (name ?? "").toLowerCase().replace(/\.$/, "");
}

/** An error as the check tells it: node's code first (ETIMEOUT, ECONNREFUSED…). */
export function describe(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !message.includes(code) ? `${code} (${message})` : message;
}
