/**
 * MTA-STS wire formats (RFC 8461), parsed strictly: the `_mta-sts` TXT record (§3.1), the policy
 * file (§3.2), and the MX match rule (§4.1). Pure functions; fetching and caching are in
 * mta_sts.ts and mta_sts_fetch.ts.
 */
import type { MtaStsPolicy } from "./types.ts";

/** The longest max_age a policy may give (RFC 8461 §3.2: about one year). */
export const MAX_POLICY_AGE = 31557600;

/** Why a policy or TXT record was refused; `type` is the TLS-RPT result type (RFC 8460 §4.3). */
export class MtaStsError extends Error {
  constructor(
    message: string,
    readonly type: "sts-policy-invalid" | "sts-policy-fetch-error" = "sts-policy-invalid",
  ) {
    super(message);
    this.name = "MtaStsError";
  }
}

// RFC 8461 §3.1 ABNF: sts-field-name, sts-field-value, sts-id.
const TXT_FIELD_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const TXT_FIELD_VALUE = /^[\x21-\x3a\x3c\x3e-\x7e]+$/;
const TXT_ID = /^[A-Za-z0-9]{1,32}$/;
// §3.2: sts-policy-field-name and value; mx: ["*."] Domain (RFC 5321 labels).
const POLICY_FIELD_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const POLICY_FIELD_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * The policy id from a domain's `_mta-sts` TXT records (each joined from its strings), or null
 * when none starts with "v=STSv1" (no policy). Several STSv1 records, or one that breaks §3.1,
 * is an error (§3.1: "senders MUST assume that the Policy Domain does not implement MTA-STS" —
 * the caller treats it as no record, yet reports it).
 */
export function parseStsTxt(records: readonly string[]): string | null {
  const sts = records.filter((r) => /^v=STSv1(;|\s|$)/.test(r));
  if (sts.length === 0) return null;
  if (sts.length > 1) throw new MtaStsError(`${sts.length} _mta-sts TXT records; exactly one is allowed`);
  const fields = new Map<string, string>();
  const terms = sts[0].split(";").map((t) => t.trim());
  if (terms.at(-1) === "") terms.pop();
  for (const term of terms) {
    const eq = term.indexOf("=");
    const name = term.slice(0, eq);
    const value = term.slice(eq + 1);
    if (eq < 0 || !TXT_FIELD_NAME.test(name) || !TXT_FIELD_VALUE.test(value)) {
      throw new MtaStsError(`_mta-sts TXT record term "${term.slice(0, 80)}" is malformed`);
    }
    if (!fields.has(name)) fields.set(name, value);
  }
  const id = fields.get("id");
  if (id === undefined) throw new MtaStsError("_mta-sts TXT record has no id");
  if (!TXT_ID.test(id)) {
    throw new MtaStsError(`_mta-sts TXT id "${id.slice(0, 80)}" is not 1 to 32 letters and digits`);
  }
  return id;
}

/**
 * A policy file (§3.2) as fetched, with the id of the TXT record that led to it. Lines end in LF or
 * CRLF; unknown keys are ignored and a repeated key other than mx keeps its first value (§3.2).
 */
export function parsePolicy(text: string, id: string): MtaStsPolicy {
  const fields = new Map<string, string>();
  const mx: string[] = [];
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  for (const [index, line] of lines.entries()) {
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon).replace(/^[ \t]+/, "");
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (!POLICY_FIELD_NAME.test(name) || !POLICY_FIELD_VALUE.test(value)) {
      throw new MtaStsError(`Policy line ${index + 1} "${line.slice(0, 80)}" is not "key: value"`);
    }
    if (name === "mx") mx.push(value);
    else if (!fields.has(name)) fields.set(name, value);
  }
  const version = fields.get("version");
  if (version !== "STSv1") throw new MtaStsError(`Policy version "${version ?? ""}" is not STSv1`);
  const mode = fields.get("mode");
  if (mode !== "enforce" && mode !== "testing" && mode !== "none") {
    throw new MtaStsError(`Policy mode "${mode ?? ""}" is not enforce, testing or none`);
  }
  const age = fields.get("max_age");
  if (age === undefined || !/^[0-9]{1,10}$/.test(age) || Number(age) > MAX_POLICY_AGE) {
    throw new MtaStsError(`Policy max_age "${age ?? ""}" is not a number of seconds up to ${MAX_POLICY_AGE}`);
  }
  for (const pattern of mx) {
    if (!isMxPattern(pattern)) {
      throw new MtaStsError(`Policy mx "${pattern.slice(0, 80)}" is not a host name or *.domain`);
    }
  }
  if (mode !== "none" && mx.length === 0) throw new MtaStsError(`Policy in mode ${mode} names no mx`);
  return { id, mode, mx: mx.map((m) => m.toLowerCase()), maxAge: Number(age) };
}

/** Whether `pattern` is a host name, or "*." and a domain of at least two labels (§3.2). */
function isMxPattern(pattern: string): boolean {
  const wildcard = pattern.startsWith("*.");
  const name = (wildcard ? pattern.slice(2) : pattern).replace(/\.$/, "");
  const labels = name.split(".");
  return name.length <= 253 && labels.length >= (wildcard ? 2 : 1) && labels.every((l) => LABEL.test(l));
}

/**
 * Whether the MX host `host` is allowed by `policy` (§4.1): equal to an mx pattern, or matching a
 * "*.domain" pattern in exactly one leftmost label. Case and a final dot do not matter.
 */
export function mxMatchesPolicy(policy: Pick<MtaStsPolicy, "mx">, host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return policy.mx.some((raw) => {
    const pattern = raw.toLowerCase().replace(/\.$/, "");
    if (!pattern.startsWith("*.")) return pattern === name;
    const dot = name.indexOf(".");
    return dot > 0 && name.slice(dot + 1) === pattern.slice(2);
  });
}
