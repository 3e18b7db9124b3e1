/**
 * Starting the submission listeners of `postern serve` from the configuration: 587 with STARTTLS
 * (--submission-listen) and 465 with implicit TLS (--submissions-listen), both on the certificate
 * files of --tls-cert/--tls-key (see smtp/submission_server.ts).
 */
import { getLogger } from "@logtape/logtape";
import type { Config } from "./config/mod.ts";
import { normalizeLogin } from "./directory/mod.ts";
import { isRecipientAddress } from "./mail/mod.ts";
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
 * Starts the submission listeners that are configured. `bound` is told of each as it starts, so a
 * failure of the second can close the first.
 */
export async function startSubmission(
  config: Config,
  services: Services,
  metrics: SmtpMetrics,
  bound: SubmissionListeners,
): Promise<void> {
  const { submissionListen, submissionsListen, tlsCertFile, tlsKeyFile, ...rest } = config.smtp;
  if (!tlsCertFile || !tlsKeyFile) return;
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
    limits,
    tls,
    metrics,
    log: getLogger(["postern", "smtp"]),
  };
  if (submissionListen) {
    bound.submission = await startSubmissionServer({ ...common, ...submissionListen, implicitTls: false });
  }
  if (submissionsListen) {
    bound.submissions = await startSubmissionServer({ ...common, ...submissionsListen, implicitTls: true });
  }
}
