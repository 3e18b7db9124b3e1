/**
 * The one mapping from Postern's domain errors (model/errors.ts) to IMAP's tagged answers: NO with
 * an RFC 5530 response code for a refusal, never BYE or a dropped connection for a client's mistake.
 * BAD is for syntax and for commands in the wrong state; those are answered by the session.
 */
import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  QuotaError,
  RuleError,
  UnavailableError,
} from "../model/errors.ts";
import type { StatusResponse } from "./command.ts";

/** An IMAP refusal a command handler throws: answered `tag NO [code] text`. */
export class ImapNo extends Error {
  constructor(readonly code: string | undefined, message: string) {
    super(message);
  }
}

/** An IMAP syntax or protocol error a handler throws: answered `tag BAD [code] text`. */
export class ImapBad extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

/** The tagged answer to a command that failed with `error`; undefined for a fault (not the client's). */
export function answerOf(tag: string, error: unknown): StatusResponse | undefined {
  const no = (code: string | undefined, text: string): StatusResponse => ({
    tag,
    status: "NO",
    code: code ? { name: code } : undefined,
    text,
  });
  if (error instanceof ImapNo) return no(error.code, error.message);
  if (error instanceof ImapBad) {
    return { tag, status: "BAD", code: error.code ? { name: error.code } : undefined, text: error.message };
  }
  // RFC 4314 §6: a mailbox the user may not see is "nonexistent" to them, not forbidden.
  if (error instanceof NotFoundError) return no("NONEXISTENT", error.message);
  if (error instanceof ForbiddenError) return no("NOPERM", error.message);
  if (error instanceof ConflictError) {
    return no(error.kind === "alreadyExists" ? "ALREADYEXISTS" : "INUSE", error.message);
  }
  if (error instanceof QuotaError) return no("OVERQUOTA", error.message);
  if (error instanceof UnavailableError) return no("UNAVAILABLE", error.message);
  if (error instanceof RuleError) {
    switch (error.rule) {
      case "alreadyExists":
        return no("ALREADYEXISTS", error.message);
      case "forbidden":
        return no("NOPERM", error.message);
      case "tooLarge":
        return no("LIMIT", error.message);
      case "mailboxHasChild":
        return no("HASCHILDREN", error.message);
      case "mailboxHasEmail":
        return no("CANNOT", error.message);
      default:
        return no("CANNOT", error.message);
    }
  }
  if (error instanceof InvalidInputError) return no("CANNOT", error.message);
  return undefined;
}
