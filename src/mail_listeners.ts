/**
 * The mail listeners of a serving process (src/server.ts): the MX, submission (587, 465) and IMAP
 * (143, 993), started together before the start line so that line names each; if one cannot start,
 * those already up are closed and the error names the address and the flag to change.
 */
import type { Config } from "./config/mod.ts";
import { listenError } from "./config/mod.ts";
import type { ImapMetrics } from "./imap/mod.ts";
import { type ImapListeners, type LiveHooks, startImap } from "./imap_listener.ts";
import { hostPort, startMx } from "./mx.ts";
import type { Services } from "./services.ts";
import type { MxServer, SmtpMetrics, TlsSource } from "./smtp/mod.ts";
import { startSubmission, type SubmissionListeners } from "./submission.ts";

/** The mail listeners that are up. */
export interface MailListeners {
  mx: MxServer | undefined;
  submission: SubmissionListeners;
  imap: ImapListeners;
  /** Each listener's host:port, by protocol (smtp, submission, submissions, imap, imaps). */
  addresses(): Record<string, string>;
  /** The words of the start line after the HTTP address (", SMTP (MX) on …"). */
  describe(): string;
  /**
   * Closes every listener: SMTP sessions that are idle get 421 at once, a message being received may
   * finish within `graceMs`; IMAP sessions get `* BYE` at once (an IMAP client reconnects and
   * resynchronizes).
   */
  close(graceMs: number): Promise<void>;
}

/** Starts the configured mail listeners (none configured: none started). */
export async function startMailListeners(
  config: Config,
  services: Services,
  options: {
    smtpMetrics: SmtpMetrics;
    imapMetrics: ImapMetrics;
    /** A new certificate source per listener; none: STARTTLS not offered, no submission, no IMAP. */
    tlsSource: (() => TlsSource) | undefined;
    /** Set once the app is made: what IMAP sessions register with (imap_listener.ts). */
    live: () => LiveHooks | undefined;
  },
): Promise<MailListeners> {
  let mx: MxServer | undefined;
  try {
    mx = await startMx(config, services, options.smtpMetrics, options.tlsSource?.());
  } catch (error) {
    const listen = config.smtp.listen;
    throw listen && (error as { code?: unknown })?.code
      ? listenError(error, listen.hostname, listen.port, "--smtp-listen (POSTERN_SMTP_LISTEN)")
      : error;
  }
  let submission: SubmissionListeners;
  try {
    submission = await startSubmission(config, services, options.smtpMetrics, options.tlsSource);
  } catch (error) {
    await mx?.close(0);
    throw error;
  }
  let imap: ImapListeners;
  try {
    imap = await startImap(config, services, options.imapMetrics, options.tlsSource, options.live);
  } catch (error) {
    await Promise.all([mx?.close(0), submission.submission?.close(0), submission.submissions?.close(0)]);
    throw error;
  }
  const addresses = () => {
    const bound: Record<string, string> = {};
    if (mx) bound.smtp = hostPort(mx.addr);
    if (submission.submission) bound.submission = hostPort(submission.submission.addr);
    if (submission.submissions) bound.submissions = hostPort(submission.submissions.addr);
    if (imap.imap) bound.imap = hostPort(imap.imap.addr);
    if (imap.imaps) bound.imaps = hostPort(imap.imaps.addr);
    return bound;
  };
  return {
    mx,
    submission,
    imap,
    addresses,
    describe() {
      const bound = addresses();
      return (mx ? `, SMTP (MX) on ${bound.smtp}${mx.starttls ? " with STARTTLS" : ""}` : "") +
        (bound.submission ? `, submission on ${bound.submission} (STARTTLS)` : "") +
        (bound.submissions ? `, submission on ${bound.submissions} (implicit TLS)` : "") +
        (bound.imap ? `, IMAP on ${bound.imap} (STARTTLS)` : "") +
        (bound.imaps ? `, IMAP on ${bound.imaps} (implicit TLS)` : "");
    },
    async close(graceMs) {
      await Promise.all([
        mx?.close(graceMs),
        submission.submission?.close(graceMs),
        submission.submissions?.close(graceMs),
        imap.imap?.close(),
        imap.imaps?.close(),
      ]);
    },
  };
}
