/**
 * Starting the submission listeners of `postern serve` from the configuration: 587 with STARTTLS
 * (--submission-listen) and 465 with implicit TLS (--submissions-listen), both on the certificate
 * files of --tls-cert/--tls-key (see smtp/submission_server.ts).
 */
import { getLogger } from "@logtape/logtape";
import { type Config, listenError } from "./config/mod.ts";
import { normalizeLogin } from "./directory/mod.ts";
import { isRecipientAddress, SUBMISSION_LIMITS } from "./mail/mod.ts";
import type { Services } from "./services.ts";
import {
  ReloadingTlsFiles,
  type SmtpMetrics,
  startSubmissionServer,
  type SubmissionServer,
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
): Promise<SubmissionListeners> {
  const { submissionListen, submissionsListen, tlsCertFile, tlsKeyFile, ...rest } = config.smtp;
  const bound: SubmissionListeners = {};
  if (!tlsCertFile || !tlsKeyFile) return bound;
  const { listen: _, ...limits } = rest;
  const tls = new ReloadingTlsFiles(tlsCertFile, tlsKeyFile);
  const common = {
    serverName: config.domain,
    auth: {
      authenticate: (authorization: string, client: string) =>
        services.authenticator.authenticate(authorization, client),
      accountIdOf: (login: string) => services.accounts.idByLogin(normalizeLogin(login)),
    },
    recheck: (authorization: string, client: string) =>
      services.connectionAuthenticator.authenticate(authorization, client),
    submission: services.messageSubmission,
    isRecipientAddress,
    // An EmailSubmission has at most SUBMISSION_LIMITS.maxRecipients: more are refused at RCPT.
    limits: { ...limits, maxRecipients: Math.min(limits.maxRecipients, SUBMISSION_LIMITS.maxRecipients) },
    tls,
    metrics,
    log: getLogger(["postern", "smtp"]),
  };
  const start = async (
    where: { hostname: string; port: number },
    implicitTls: boolean,
    flag: string,
  ): Promise<SubmissionServer> => {
    try {
      return await startSubmissionServer({ ...common, ...where, implicitTls });
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
