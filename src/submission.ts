/**
 * Starting the submission listeners of `postern serve` from the configuration: 587 with STARTTLS
 * (--submission-listen) and 465 with implicit TLS (--submissions-listen), both on the certificate
 * of --tls-cert/--tls-key or ACME (see https.ts and smtp/submission_server.ts).
 */
import { getLogger } from "@logtape/logtape";
import { type Config, listenError } from "./config/mod.ts";
import { normalizeLogin } from "./directory/mod.ts";
import { isRecipientAddress, SUBMISSION_LIMITS } from "./mail/mod.ts";
import type { Services } from "./services.ts";
import {
  type SmtpMetrics,
  startSubmissionServer,
  type SubmissionServer,
  type TlsSource,
} from "./smtp/mod.ts";

/** The submission listeners that are up, by name: "submission" (587), "submissions" (465). */
export type SubmissionListeners = Partial<Record<"submission" | "submissions", SubmissionServer>>;

/**
 * Starts the submission listeners that are configured. If one cannot bind, the other is closed and
 * the error names the address and the flag to change.
 */
export async function startSubmission(
  config: Config,
  services: Services,
  metrics: SmtpMetrics,
  /** A new certificate source per listener (each tracks what it last served); none: no TLS, no submission. */
  tlsSource: (() => TlsSource) | undefined,
): Promise<SubmissionListeners> {
  const { submissionListen, submissionsListen, tlsCertFile: _cert, tlsKeyFile: _key, ...rest } = config.smtp;
  const bound: SubmissionListeners = {};
  if (!tlsSource) return bound;
  const { listen: _, ...limits } = rest;
  // SMTP has no HTTP request to bring the caches in step with other processes' writes (the CLI or
  // TUI on the database file): each check does it first, so a credential or a right to send as a
  // group taken away elsewhere holds from the next command, and an account made elsewhere logs in.
  const synced = async <T>(check: () => Promise<T>): Promise<T> => {
    await services.sync();
    return await check();
  };
  const submission = services.messageSubmission;
  const common = {
    serverName: config.domain,
    auth: {
      authenticate: (authorization: string, client: string) =>
        synced(() => services.authenticator.authenticate(authorization, client)),
      accountIdOf: (login: string) => synced(() => services.accounts.idByLogin(normalizeLogin(login))),
    },
    recheck: (authorization: string, client: string) =>
      synced(() => services.connectionAuthenticator.authenticate(authorization, client)),
    submission: {
      maySendAs: (accountId: number, address: string) =>
        synced(() => submission.maySendAs(accountId, address)),
      submit: (...args: Parameters<typeof submission.submit>) => synced(() => submission.submit(...args)),
    },
    isRecipientAddress,
    // An EmailSubmission has at most SUBMISSION_LIMITS.maxRecipients: more are refused at RCPT.
    limits: { ...limits, maxRecipients: Math.min(limits.maxRecipients, SUBMISSION_LIMITS.maxRecipients) },
    metrics,
    log: getLogger(["postern", "smtp"]),
  };
  const start = async (
    where: { hostname: string; port: number },
    implicitTls: boolean,
    flag: string,
  ): Promise<SubmissionServer> => {
    try {
      return await startSubmissionServer({
        ...common,
        ...where,
        reusePort: config.reusePort,
        implicitTls,
        tls: tlsSource(),
      });
    } catch (error) {
      await bound.submission?.close(0);
      throw (error as { code?: unknown })?.code
        ? listenError(error, where.hostname, where.port, flag)
        : error;
    }
  };
  if (submissionListen) {
    bound.submission = await start(
      submissionListen,
      false,
      "--submission-listen (POSTERN_SUBMISSION_LISTEN)",
    );
  }
  if (submissionsListen) {
    bound.submissions = await start(
      submissionsListen,
      true,
      "--submissions-listen (POSTERN_SUBMISSIONS_LISTEN)",
    );
  }
  return bound;
}
