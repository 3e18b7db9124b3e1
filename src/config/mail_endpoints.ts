/** Where mail clients reach this server, from the configuration (see src/model/dns_records.ts). */
import type { MailEndpoints } from "../model/dns_records.ts";
import type { Config } from "./config.ts";

/** Submission defaults when the configuration has no submission listeners to read (RFC 6409, 8314). */
const SUBMISSION_PORT = 587;
const SUBMISSIONS_PORT = 465;

/**
 * The published endpoints: the mail host and the ports of the submission listeners when the
 * configuration has them (a listener left unset is not offered), else the standard ports.
 */
export function mailEndpoints(config: Config): MailEndpoints {
  const smtp = config.smtp as Config["smtp"] & {
    submissionListen?: { port: number };
    submissionsListen?: { port: number };
  };
  const port = (field: "submissionListen" | "submissionsListen", fallback: number) =>
    field in smtp ? smtp[field]?.port : fallback;
  return {
    mailHost: config.mailHost,
    submissionPort: port("submissionListen", SUBMISSION_PORT),
    submissionsPort: port("submissionsListen", SUBMISSIONS_PORT),
  };
}
