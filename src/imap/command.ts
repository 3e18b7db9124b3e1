/**
 * IMAP wire types: what a client's command means once parsed (RFC 9051 §6, with the IMAP4rev1
 * forms of RFC 3501 a rev1 client sends, and the extensions Postern offers), and the values a
 * response is made of. Pure types: the parser (parser.ts) produces `ImapCommand`, the response
 * writer (response.ts) consumes `ResponseValue`; behaviour lives in the session and the services.
 *
 * Macros (FETCH ALL/FAST/FULL) are expanded by the parser, so a handler never sees them. Mailbox
 * names are decoded: modified UTF-7 (RFC 3501 §5.1.3) for a client that has not enabled
 * UTF8=ACCEPT, UTF-8 otherwise (RFC 9051 §5.1); "INBOX" in any case is "INBOX".
 */

/** One range of a sequence set (RFC 9051 §9 `seq-range`); `"*"` is the largest number in use. */
export interface SequenceRange {
  start: number | "*";
  end: number | "*";
}

/** A sequence set (message sequence numbers, or UIDs under `UID …`); `"$"` is a saved result (RFC 5182). */
export type SequenceSet = SequenceRange[] | "$";

/** A flag or keyword as sent: system flags keep their backslash (`\Seen`), keywords are atoms. */
export type Flag = string;

/** A section of a message (RFC 9051 §6.4.5 `section`): part path, then what of it. */
export interface Section {
  /** Part numbers from the top (`1.2` → `[1, 2]`); empty for the whole message. */
  part: number[];
  text?: "HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME";
  /** Field names for HEADER.FIELDS and HEADER.FIELDS.NOT, as sent. */
  fields?: string[];
}

/** `<offset.length>` of a partial fetch. */
export interface Partial {
  offset: number;
  length: number;
}

/** One FETCH data item (RFC 9051 §6.4.5; MODSEQ RFC 7162; EMAILID/THREADID RFC 8474; BINARY RFC 3516). */
export type FetchItem =
  | {
    kind:
      | "FLAGS"
      | "UID"
      | "INTERNALDATE"
      | "RFC822.SIZE"
      | "ENVELOPE"
      | "BODYSTRUCTURE"
      | "BODY"
      | "MODSEQ"
      | "EMAILID"
      | "THREADID"
      | "RFC822"
      | "RFC822.HEADER"
      | "RFC822.TEXT";
  }
  | { kind: "BODY[]"; peek: boolean; section: Section; partial?: Partial }
  | { kind: "BINARY[]"; peek: boolean; part: number[]; partial?: Partial }
  | { kind: "BINARY.SIZE"; part: number[] };

/** A search key (RFC 9051 §6.4.4; MODSEQ RFC 7162 §3.1.5; EMAILID/THREADID RFC 8474). */
export type SearchKey =
  | { op: "all" }
  | { op: "and"; keys: SearchKey[] }
  | { op: "or"; left: SearchKey; right: SearchKey }
  | { op: "not"; key: SearchKey }
  | { op: "seq"; set: SequenceSet }
  | { op: "uid"; set: SequenceSet }
  /** ANSWERED/DELETED/DRAFT/FLAGGED/SEEN and KEYWORD (`present: true`), UN… forms (`false`). */
  | { op: "flag"; flag: Flag; present: boolean }
  /** IMAP4rev1 only: RECENT, NEW, OLD (no message is ever \Recent in Postern, RFC 9051 §2.3.2). */
  | { op: "recent"; which: "RECENT" | "NEW" | "OLD" }
  /** BCC/CC/FROM/SUBJECT/TO and HEADER name value: substring, case-insensitive. */
  | { op: "header"; field: string; value: string }
  | { op: "body"; value: string }
  | { op: "text"; value: string }
  /** BEFORE/ON/SINCE (internal date) and SENTBEFORE/SENTON/SENTSINCE; `date` is `YYYY-MM-DD`. */
  | { op: "date"; field: "internal" | "sent"; compare: "before" | "on" | "since"; date: string }
  | { op: "size"; compare: "larger" | "smaller"; size: number }
  | { op: "modseq"; modseq: bigint }
  | { op: "emailid"; id: string }
  | { op: "threadid"; id: string };

/** ESEARCH result options (RFC 4731 §3; SAVE RFC 5182). Empty list = plain `SEARCH` response form. */
export type SearchReturn = "MIN" | "MAX" | "ALL" | "COUNT" | "SAVE";

/** A SORT key (RFC 5256 §3). */
export interface SortCriterion {
  key: "ARRIVAL" | "CC" | "DATE" | "FROM" | "SIZE" | "SUBJECT" | "TO" | "DISPLAYFROM" | "DISPLAYTO";
  reverse: boolean;
}

/** A STATUS item (RFC 9051 §6.3.11; HIGHESTMODSEQ RFC 7162; MAILBOXID RFC 8474; RFC 9208 DELETED-STORAGE). */
export type StatusItem =
  | "MESSAGES"
  | "UIDNEXT"
  | "UIDVALIDITY"
  | "UNSEEN"
  | "DELETED"
  | "SIZE"
  | "RECENT"
  | "HIGHESTMODSEQ"
  | "MAILBOXID"
  | "APPENDLIMIT";

/** QRESYNC parameters of SELECT/EXAMINE (RFC 7162 §3.2.5). */
export interface QresyncParameters {
  uidValidity: number;
  modseq: bigint;
  knownUids?: SequenceSet;
  /** Known sequence numbers and the UIDs they had. */
  sequenceMatch?: { sequences: SequenceSet; uids: SequenceSet };
}

/** One message of APPEND (RFC 9051 §6.3.12; MULTIAPPEND-shaped so RFC 3502 can follow). */
export interface AppendMessage {
  flags: Flag[];
  /** The internal date as sent (`date-time`), parsed; absent = now. */
  date?: Date;
  message: Uint8Array;
  /** `~{n}` literal8 of RFC 3516: binary content allowed. */
  binary: boolean;
}

/** What a command asks, by name. */
export type CommandBody =
  | { name: "CAPABILITY" | "NOOP" | "LOGOUT" | "STARTTLS" | "NAMESPACE" | "IDLE" | "CHECK" }
  | { name: "CLOSE" | "UNSELECT" }
  /** AUTHENTICATE with SASL-IR (RFC 4959): `""` is an empty initial response (`=`). */
  | { name: "AUTHENTICATE"; mechanism: string; initialResponse?: Uint8Array | "" }
  | { name: "LOGIN"; username: string; password: string }
  | { name: "ENABLE"; capabilities: string[] }
  /** ID (RFC 2971): null is `ID NIL`. */
  | { name: "ID"; parameters: Record<string, string | null> | null }
  | { name: "COMPRESS"; mechanism: string }
  | {
    name: "SELECT" | "EXAMINE";
    mailbox: string;
    condstore: boolean;
    qresync?: QresyncParameters;
  }
  | { name: "CREATE"; mailbox: string; specialUse: string[] }
  | { name: "DELETE" | "SUBSCRIBE" | "UNSUBSCRIBE"; mailbox: string }
  | { name: "RENAME"; from: string; to: string }
  /** LIST with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819) and SPECIAL-USE (RFC 6154). */
  | {
    name: "LIST";
    reference: string;
    patterns: string[];
    selection: Array<"SUBSCRIBED" | "REMOTE" | "RECURSIVEMATCH" | "SPECIAL-USE">;
    returns: { subscribed: boolean; children: boolean; specialUse: boolean; status?: StatusItem[] };
    /** True for the basic two-argument form, whose answer differs (no CHILDINFO, \Subscribed…). */
    basic: boolean;
  }
  | { name: "LSUB"; reference: string; pattern: string }
  | { name: "STATUS"; mailbox: string; items: StatusItem[] }
  | { name: "APPEND"; mailbox: string; messages: AppendMessage[] }
  /** EXPUNGE, or UID EXPUNGE (RFC 4315) with its set. */
  | { name: "EXPUNGE"; uids?: SequenceSet }
  | { name: "SEARCH"; charset?: string; criteria: SearchKey; returns: SearchReturn[]; esearch: boolean }
  | { name: "SORT"; criteria: SortCriterion[]; charset: string; search: SearchKey; returns: SearchReturn[] }
  | { name: "THREAD"; algorithm: "REFERENCES" | "ORDEREDSUBJECT"; charset: string; search: SearchKey }
  | { name: "FETCH"; set: SequenceSet; items: FetchItem[]; changedSince?: bigint; vanished: boolean }
  | {
    name: "STORE";
    set: SequenceSet;
    unchangedSince?: bigint;
    operation: "replace" | "add" | "remove";
    silent: boolean;
    flags: Flag[];
  }
  | { name: "COPY" | "MOVE"; set: SequenceSet; mailbox: string }
  | { name: "GETQUOTA"; root: string }
  | { name: "GETQUOTAROOT"; mailbox: string }
  | { name: "SETQUOTA"; root: string; limits: Array<{ resource: string; limit: number }> }
  | { name: "GETACL" | "MYRIGHTS"; mailbox: string }
  | { name: "SETACL"; mailbox: string; identifier: string; rights: string }
  | { name: "DELETEACL" | "LISTRIGHTS"; mailbox: string; identifier: string };

/** A parsed command: its tag, `UID` prefix (FETCH, STORE, COPY, MOVE, SEARCH, SORT, THREAD, EXPUNGE) and body. */
export interface ImapCommand {
  tag: string;
  uid: boolean;
  body: CommandBody;
}

/**
 * What the command decoder (decoder.ts) makes of the bytes read so far. A synchronizing literal
 * `{n}` yields `continue` (the session writes `+ …` and reads on); a command that cannot be parsed
 * yields `bad` with its tag when one was read (the session answers `tag BAD …` or `* BAD …`), and
 * the decoder skips to the end of that command, literals included, without buffering them.
 */
export type DecodeEvent =
  | { type: "command"; command: ImapCommand }
  | { type: "continue"; text: string }
  /** A raw line, read in line mode: an AUTHENTICATE response or IDLE's `DONE`. */
  | { type: "line"; line: string }
  | { type: "bad"; tag?: string; text: string; code?: string }
  /** A literal over the limit: `NO [TOOBIG]` for APPEND (RFC 7889), BAD otherwise; closes if non-synchronizing. */
  | { type: "tooBig"; tag?: string; text: string; close: boolean };

/** The command decoder's interface: bytes in, events out; `lineMode` reads the next line raw. */
export interface CommandDecoder {
  /** Feeds bytes read from the connection; returns what they completed, in order. */
  push(chunk: Uint8Array): DecodeEvent[];
  /** The next line is read raw (AUTHENTICATE continuation, IDLE DONE) instead of as a command. */
  lineMode(on: boolean): void;
  /** Decoding of mailbox names and quoted strings: UTF-8 once the client enabled UTF8=ACCEPT. */
  utf8(on: boolean): void;
}

/** Limits of the decoder; a command or literal past them is refused, never buffered. */
export interface DecoderLimits {
  /** Longest command line without its literals (bytes); Dovecot uses 64 KiB. */
  maxLine: number;
  /** Largest literal in APPEND (the message size limit). */
  maxAppendLiteral: number;
  /** Largest literal anywhere else (a search string, a password). */
  maxLiteral: number;
  /**
   * Largest non-synchronizing literal `{n+}`: 4096 when the server offers LITERAL- rather than
   * LITERAL+ (RFC 7888 §5); absent = only the limits above.
   */
  maxNonSynchronizingLiteral?: number;
}

/** An atom written as is (flags, keywords, `NIL`-free names); the writer refuses one with a special character. */
export interface Atom {
  atom: string;
}

/**
 * A FETCH data item's name written as is (RFC 9051 §7.5.2 `msg-att`): `BODY[1.MIME]<0>` and
 * `BODY[HEADER.FIELDS (FROM "X Y")]` are no atoms. The writer accepts printable ASCII only, so a name
 * can never carry a CR or LF; the renderers (render/fetch_item.ts) build it from safe pieces.
 */
export interface ItemName {
  itemName: string;
}

/**
 * A value of a response (RFC 9051 §4): a number, NIL (null), an atom, a FETCH item name, a string
 * (the writer chooses quoted or literal so no CR, LF or unbalanced quote is ever emitted), bytes
 * (always a literal; `literal8` when `binary`), or a parenthesized list.
 */
export type ResponseValue =
  | number
  | bigint
  | null
  | Atom
  | ItemName
  | string
  | { bytes: Uint8Array; binary?: boolean }
  | ResponseValue[];

/** A response code in brackets (RFC 9051 §7.1): `[UIDNEXT 4]` is `{ name: "UIDNEXT", values: [4] }`. */
export interface ResponseCode {
  name: string;
  values?: ResponseValue[];
}

/** A status response: tagged (`tag`) or untagged (`*`); the text is one line (the writer replaces CR/LF). */
export interface StatusResponse {
  tag?: string;
  status: "OK" | "NO" | "BAD" | "PREAUTH" | "BYE";
  code?: ResponseCode;
  text: string;
}
