/** Starting the MX listener of `postern serve` from the configuration (see smtp/mx_server.ts). */
import { getLogger } from "@logtape/logtape";
import type { Config } from "./config/mod.ts";
import { DnsResolver } from "./dns/mod.ts";
import { AuthenticationPool } from "./mail/mod.ts";
import type { Services } from "./services.ts";
import { type MxServer, type SmtpMetrics, startMxServer, type TlsSource } from "./smtp/mod.ts";

/**
 * Starts the MX when `--smtp-listen` is set; undefined otherwise. `tls` (the --tls-cert files or the
 * ACME certificate, see https.ts) offers STARTTLS.
 */
export async function startMx(
  config: Config,
  services: Services,
  metrics: SmtpMetrics,
  tls?: TlsSource,
): Promise<MxServer | undefined> {
  const { listen, tlsCertFile: _cert, tlsKeyFile: _key, ...limits } = config.smtp;
  if (!listen) return undefined;
  // SPF, DKIM, DMARC and ARC are checked in worker threads (see mail/authentication_pool.ts).
  const authenticator = new AuthenticationPool({
    authservId: config.domain,
    dns: { servers: config.dnsServers, cache: true },
    resolver: new DnsResolver({ servers: config.dnsServers, cache: true }).resolve,
  });
  const { inbound } = services;
  let mx: MxServer;
  try {
    mx = await startMxServer({
      ...listen,
      reusePort: config.reusePort,
      serverName: config.domain,
      inbound: {
        // No HTTP request brings the caches in step with other processes' writes here: each recipient
        // check does it first, so an account the CLI just made is no longer a cached "no such user".
        async checkRecipient(...args: Parameters<typeof inbound.checkRecipient>) {
          await services.sync();
          return await inbound.checkRecipient(...args);
        },
        deliver: (...args: Parameters<typeof inbound.deliver>) => inbound.deliver(...args),
        announce: () => inbound.announce(),
      },
      limits,
      tls,
      authenticator,
      metrics,
      log: getLogger(["postern", "smtp"]),
    });
  } catch (error) {
    authenticator.close();
    throw error;
  }
  return {
    ...mx,
    async close(graceMs) {
      await mx.close(graceMs);
      authenticator.close();
    },
  };
}

/** host:port of an address, IPv6 in brackets. */
export function hostPort(addr: { hostname: string; port: number }): string {
  return `${addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname}:${addr.port}`;
}
