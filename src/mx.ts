/** Starting the MX listener of `postern serve` from the configuration (see smtp/mx_server.ts). */
import { getLogger } from "@logtape/logtape";
import type { Config } from "./config/mod.ts";
import { DnsResolver } from "./dns/mod.ts";
import { MailAuthenticator } from "./mail/mod.ts";
import type { Services } from "./services.ts";
import { type MxServer, ReloadingTlsFiles, type SmtpMetrics, startMxServer } from "./smtp/mod.ts";

/** Starts the MX when `--smtp-listen` is set; undefined otherwise. */
export async function startMx(
  config: Config,
  services: Services,
  metrics: SmtpMetrics,
): Promise<MxServer | undefined> {
  const { listen, tlsCertFile, tlsKeyFile, ...limits } = config.smtp;
  if (!listen) return undefined;
  return await startMxServer({
    ...listen,
    serverName: config.domain,
    inbound: services.inbound,
    limits,
    tls: tlsCertFile && tlsKeyFile ? new ReloadingTlsFiles(tlsCertFile, tlsKeyFile) : undefined,
    authenticator: new MailAuthenticator({
      authservId: config.domain,
      resolver: new DnsResolver({ servers: config.dnsServers }).resolve,
    }),
    metrics,
    log: getLogger(["postern", "smtp"]),
  });
}

/** host:port of an address, IPv6 in brackets. */
export function hostPort(addr: { hostname: string; port: number }): string {
  return `${addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname}:${addr.port}`;
}
