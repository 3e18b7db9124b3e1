/**
 * The MX's step between receiving a message and storing it: the authentication checks of
 * mail/authentication.ts on the session's client, HELO and envelope, counted in the metrics.
 */
import type { SMTPServerSession } from "smtp-server";
import type { AcceptedRecipient, AuthenticationVerdict, MailAuthenticator } from "../mail/mod.ts";
import type { SmtpMetrics } from "./metrics.ts";

/** Checks `message` of `session` for `recipients`; undefined when the MX checks nothing. */
export async function authenticateMessage(
  authenticator: Pick<MailAuthenticator, "check"> | undefined,
  input: {
    session: SMTPServerSession;
    message: Uint8Array;
    recipients: readonly AcceptedRecipient[];
    metrics: SmtpMetrics;
  },
): Promise<AuthenticationVerdict | undefined> {
  if (!authenticator) return undefined;
  const { session } = input;
  const verdict = await authenticator.check({
    message: input.message,
    ip: session.remoteAddress,
    helo: session.hostNameAppearsAs ?? "",
    mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
    recipients: input.recipients,
  });
  input.metrics.checked(verdict.results, verdict.junk.size > 0);
  return verdict;
}
