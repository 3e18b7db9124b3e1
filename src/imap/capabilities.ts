/**
 * The one list of what Postern's IMAP offers (RFC 9051 §7.2.2 CAPABILITY), by the session's
 * standing. Only what works is offered: an extension joins its list when its commands work, and
 * nothing else changes.
 */

/**
 * The largest message APPEND takes, in octets (RFC 7889 APPENDLIMIT; the decoder's limit on an
 * APPEND's literals, imap/connection.ts, and JMAP's maxSizeUpload are the same figure).
 */
export const APPEND_LIMIT = 50_000_000;

/** Offered in every state: the protocol versions and what does not depend on login. */
const ALWAYS = ["IMAP4rev2", "IMAP4rev1", "LITERAL+", "ID", "ENABLE", "SASL-IR"] as const;

/** Offered once logged in (RFC 9051 §7.2.2: the list may change after authentication). */
const AUTHENTICATED = [
  "IDLE",
  "NAMESPACE",
  "UNSELECT",
  "LIST-EXTENDED",
  "LIST-STATUS",
  "SPECIAL-USE",
  "CREATE-SPECIAL-USE",
  "QUOTA",
  "QUOTA=RES-STORAGE",
  "QUOTA=RES-MAILBOX",
  "ACL",
  "RIGHTS=texk",
  "COMPRESS=DEFLATE",
  "UTF8=ACCEPT",
  // RFC 8474: MAILBOXID (CREATE, STATUS), EMAILID and THREADID (FETCH, SEARCH) are the JMAP ids.
  "OBJECTID",
  // RFC 3502: several messages in one APPEND, all or none (commands/append.ts).
  "MULTIAPPEND",
  `APPENDLIMIT=${APPEND_LIMIT}`,
] as const;

/** Extensions of the selected state (FETCH, STORE, SEARCH, COPY/MOVE, EXPUNGE and their options). */
export const SELECTED_STATE: readonly string[] = [
  "BINARY",
  "CONDSTORE",
  "ESEARCH",
  "MOVE",
  "QRESYNC",
  "SEARCHRES",
  "SORT",
  "SORT=DISPLAY",
  "THREAD=ORDEREDSUBJECT",
  "THREAD=REFERENCES",
  "UIDPLUS",
];

/** The SASL mechanisms of AUTHENTICATE (RFC 4616 PLAIN, LOGIN, RFC 7628 OAUTHBEARER, XOAUTH2). */
export const SASL_MECHANISMS = ["PLAIN", "LOGIN", "OAUTHBEARER", "XOAUTH2"] as const;

/** What ENABLE (RFC 5161) turns on; CONDSTORE and QRESYNC are accepted once the selected state offers them. */
export function enableable(): Set<string> {
  const names = new Set(["UTF8=ACCEPT", "IMAP4REV2"]);
  for (const name of SELECTED_STATE) if (name === "CONDSTORE" || name === "QRESYNC") names.add(name);
  return names;
}

/** The session's standing that decides the list. */
export interface CapabilityContext {
  /** TLS is on (implicit, or after STARTTLS). */
  secure: boolean;
  /** The listener offers STARTTLS (143). */
  starttls: boolean;
  authenticated: boolean;
  /** COMPRESS is already on: not offered again (RFC 4978 §3). */
  compressed: boolean;
}

/** The capability names for a session in `context`, in the order they are written. */
export function capabilities(context: CapabilityContext): string[] {
  const names: string[] = [...ALWAYS];
  if (!context.authenticated) {
    if (context.secure) {
      names.push(...SASL_MECHANISMS.map((m) => `AUTH=${m}`));
    } else {
      // RFC 9051 §6.2.3 and §11.1: no password before TLS; STARTTLS first.
      names.push("LOGINDISABLED");
      if (context.starttls) names.push("STARTTLS");
    }
    return names;
  }
  names.push(...AUTHENTICATED.filter((n) => !(context.compressed && n === "COMPRESS=DEFLATE")));
  names.push(...SELECTED_STATE);
  return names;
}
