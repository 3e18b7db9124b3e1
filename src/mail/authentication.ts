/**
 * Authentication of mail arriving from outside: SPF, DKIM, DMARC and ARC checked by mailauth
 * through the server's resolver, and what follows from them. Read in order:
 *
 * 1. Authentication-Results fields claiming this server's authserv-id are dropped from the message
 *    (RFC 8601 §5: only this server writes them, a sender's copy is a forgery).
 * 2. The checks run on the message as received, with only the first `maxDkimSignatures`
 *    DKIM-Signature fields (RFC 6376 §6.1 lets a verifier limit the signatures it checks; each one
 *    costs a DNS query and a hash), within `deadlineMs`; past it, or if a check throws, every method
 *    is `temperror`.
 * 3. DMARC decides: a failure under the sender's `p=reject` is refused when any recipient's domain
 *    enforces (one refusal at DATA covers every recipient; adding a recipient must not let a forgery
 *    through), and filed in Junk for `quarantineOnly` domains; a failure under `p=quarantine` goes to
 *    Junk except for `monitor` domains. `temperror` (DNS down) is accepted, as OpenDMARC does: mail is
 *    never refused because the server cannot tell.
 */
import { Buffer } from "node:buffer";
import type { DmarcEnforcement } from "./deps.ts";
import { authservIdOf, headerFields, withoutFields } from "./header_fields.ts";
import type { MessageFacts } from "./message_facts.ts";

/** The methods checked, in Authentication-Results order. */
export const AUTH_METHODS = ["spf", "dkim", "dmarc", "arc"] as const;
/** One of {@link AUTH_METHODS}. */
export type AuthMethod = typeof AUTH_METHODS[number];

/** Default cap of DKIM signatures checked per message (Rspamd checks 5 by default, OpenDKIM all). */
export const DEFAULT_MAX_DKIM_SIGNATURES = 10;
/** Default time all checks of one message may take before they count as temperror. */
export const DEFAULT_AUTH_DEADLINE_MS = 30_000;

/**
 * mailauth, loaded when the first message is checked: `deno bundle` cannot inline it (its
 * `require("../package")` has no extension), so scripts/bundle.ts leaves this import to the npm
 * cache, and a bundle without a listening MX never needs it.
 */
let mailauth: Promise<typeof import("mailauth")> | undefined;

/** The DNS look-up mailauth calls: `dns.promises.resolve`'s signature (see dns/resolver.ts). */
export type ResolveFunction = (name: string, type: string) => Promise<unknown>;

/** How messages are checked. */
export interface MailAuthenticatorOptions {
  /** The authserv-id (RFC 8601 §2.5): this server's name. */
  authservId: string;
  resolver: ResolveFunction;
  maxDkimSignatures?: number;
  deadlineMs?: number;
}

/** A message and how it came. */
export interface AuthenticationInput {
  message: Uint8Array;
  /** The client's address. */
  ip: string;
  /** Its HELO/EHLO name. */
  helo: string;
  /** The envelope sender ("" for the null sender: SPF checks the HELO name, RFC 7208 §2.4). */
  mailFrom: string;
  /** The recipients' addresses with their domain's DMARC enforcement (default "enforce"). */
  recipients: readonly { address: string; dmarcEnforcement?: DmarcEnforcement }[];
}

/** What the checks found and what the MX does about it. */
export interface AuthenticationVerdict {
  /** The complete `Authentication-Results:` field with its CRLF, to place above the Received field. */
  header: string;
  /** The message without forged Authentication-Results fields: what is stored. */
  message: Uint8Array;
  /** One result per method (DKIM: "pass" if any signature passed, else the first one's, "none" without). */
  results: Record<AuthMethod, string>;
  /** The sender's effective DMARC policy when DMARC failed. */
  dmarcPolicy?: string;
  /** Set when the message is refused (550 5.7.1): why, for the reply. */
  refusal?: string;
  /** Recipient addresses whose copy is filed in Junk. */
  junk: ReadonlySet<string>;
  /** Why the checks did not finish (their results are then temperror). */
  error?: string;
  /**
   * The facts (message_facts.ts) of `message`, when a worker made them beside the checks, so the
   * main thread does not parse the message again to store it.
   */
  facts?: MessageFacts;
}

/** Checks incoming messages (see the module header). */
export class MailAuthenticator {
  readonly #options: Required<MailAuthenticatorOptions>;

  constructor(options: MailAuthenticatorOptions) {
    this.#options = {
      maxDkimSignatures: DEFAULT_MAX_DKIM_SIGNATURES,
      deadlineMs: DEFAULT_AUTH_DEADLINE_MS,
      ...options,
    };
  }

  /** Checks one message; never throws for anything the message or DNS holds. */
  async check(input: AuthenticationInput): Promise<AuthenticationVerdict> {
    const { authservId, maxDkimSignatures, deadlineMs } = this.#options;
    const fields = headerFields(input.message);
    const ours = authservId.toLowerCase();
    const forged = fields.filter((f) =>
      f.name === "authentication-results" && authservIdOf(f.value) === ours
    );
    const stored = withoutFields(input.message, forged);
    const signatures = fields.filter((f) => f.name === "dkim-signature");
    const checked = withoutFields(input.message, signatures.slice(maxDkimSignatures));

    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs);
    });
    try {
      const { authenticate } = await (mailauth ??= import("mailauth"));
      const result = await Promise.race([
        authenticate(
          Buffer.from(checked.buffer, checked.byteOffset, checked.byteLength),
          {
            ip: input.ip,
            helo: input.helo || input.ip,
            sender: input.mailFrom,
            mta: authservId,
            resolver: this.#options.resolver as never,
            disableBimi: true,
            // SPF's own limit, so a slow chain of includes ends as temperror inside the deadline.
            maxElapsedTime: Math.max(1, deadlineMs - 1000),
          } as Parameters<typeof authenticate>[1],
        ),
        deadline,
      ]);
      return this.#verdict(input, stored, result);
    } catch (error) {
      return this.#unfinished(stored, error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
  }

  #verdict(input: AuthenticationInput, stored: Uint8Array, result: MailauthResult): AuthenticationVerdict {
    const dkimRows = result.dkim?.results ?? [];
    const dkim = dkimRows.some((r) => r.status?.result === "pass")
      ? "pass"
      : dkimRows[0]?.status?.result ?? "none";
    const dmarc = result.dmarc ? result.dmarc.status?.result ?? "none" : "none";
    const results: Record<AuthMethod, string> = {
      spf: result.spf ? result.spf.status?.result ?? "none" : "none",
      dkim,
      dmarc,
      arc: result.arc ? result.arc.status?.result ?? "none" : "none",
    };
    const header = authenticationResultsField(result.headers) ??
      `Authentication-Results: ${this.#options.authservId}; none\r\n`;
    const junk = new Set<string>();
    const policy = dmarc === "fail" && result.dmarc ? String(result.dmarc.policy ?? "none") : undefined;
    const modeOf = (r: AuthenticationInput["recipients"][number]) => r.dmarcEnforcement ?? "enforce";
    if (policy === "reject" && input.recipients.some((r) => modeOf(r) === "enforce")) {
      const domain = result.dmarc ? result.dmarc.status?.header?.from ?? "" : "";
      return {
        header,
        message: stored,
        results,
        dmarcPolicy: policy,
        junk,
        refusal: `DMARC policy of ${domain || "the From domain"} is reject and the message failed it ` +
          `(SPF ${results.spf}, DKIM ${results.dkim})`,
      };
    }
    if (policy === "reject" || policy === "quarantine") {
      for (const r of input.recipients) if (modeOf(r) !== "monitor") junk.add(r.address);
    }
    return { header, message: stored, results, dmarcPolicy: policy, junk };
  }

  #unfinished(stored: Uint8Array, error: string): AuthenticationVerdict {
    const why = error.replace(/[^\x20-\x7e]|[()\\]/g, " ").slice(0, 120);
    const header = `Authentication-Results: ${this.#options.authservId};\r\n` +
      ` spf=temperror; dkim=temperror; dmarc=temperror;\r\n arc=temperror (checks did not finish: ${why})\r\n`;
    return {
      header,
      message: stored,
      results: { spf: "temperror", dkim: "temperror", dmarc: "temperror", arc: "temperror" },
      junk: new Set(),
      error,
    };
  }
}

/** The parts of mailauth's answer read here. */
interface MailauthResult {
  dkim?: { results?: { status?: { result?: string } }[] };
  spf?: { status?: { result?: string } } | false;
  dmarc?: { policy?: string; status?: { result?: string; header?: { from?: string } } } | false;
  arc?: { status?: { result?: string } } | false;
  headers: string;
}

/** The Authentication-Results field (with its folded lines and CRLF) out of mailauth's header block. */
function authenticationResultsField(headers: string): string | undefined {
  const field = headers.split(/\r\n(?![ \t])/).find((f) => /^Authentication-Results:/i.test(f));
  return field ? `${field}\r\n` : undefined;
}
