/** Where mail clients reach this server, from the configuration (see src/model/dns_records.ts). */
import type { MailEndpoints } from "../model/dns_records.ts";
import type { Config } from "./config.ts";

/**
 * The published endpoints: the mail host and the ports of the submission listeners (587 STARTTLS,
 * 465 TLS) that are configured; one left unset is published as not offered. The listener's own port
 * is published, so a port forward in front of Postern must keep the port number.
 */
export function mailEndpoints(config: Config): MailEndpoints {
  return {
    mailHost: config.mailHost,
    submissionPort: config.smtp.submissionListen?.port,
    submissionsPort: config.smtp.submissionsListen?.port,
  };
}
