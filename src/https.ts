/**
 * TLS of `postern serve`: where certificates come from (the --tls-cert/--tls-key files, or ACME with
 * the certificate stored in the database, see tls/) and the HTTPS listener, the same application as
 * the HTTP listener behind the same connection front (http/connection_front.ts).
 */
import { getLogger } from "@logtape/logtape";
import { type Config, listenError, StartError } from "./config/mod.ts";
import { type ConnectionFront, type ConnectionStats, serveBehindFront } from "./http/mod.ts";
import type { Services } from "./services.ts";
import { ReloadingTlsFiles, type TlsSource } from "./smtp/mod.ts";
import {
  acmeAlpnResponder,
  type AcmeCertificates,
  acmeCertificates,
  type ConnectionIntercept,
  mtaStsNames,
} from "./tls/mod.ts";
import { DnsResolver } from "./dns/mod.ts";

/**
 * Where listeners get their certificate (a new source per listener: each tracks what it last served,
 * so each learns of a change), and ACME's renewer when certificates come from ACME.
 */
export interface TlsSetup {
  source: (() => TlsSource) | undefined;
  acme: AcmeCertificates | undefined;
  /** The HTTPS listener's TLS-ALPN-01 answers, when ACME validates that way (--acme-challenge). */
  intercept?: ConnectionIntercept;
}

/**
 * Reads the certificate files of the configuration (--tls-cert/--tls-key, or --acme-ca-file) before
 * anything is created, with one-line errors naming the flag; returns how to build the certificate
 * source over the services.
 */
export async function prepareTls(config: Config): Promise<(services: Services) => TlsSetup> {
  const acme = config.tls.acme;
  if (acme) {
    let caCerts: string[] | undefined;
    if (acme.caFile !== undefined) {
      caCerts = [await readOrExplain(acme.caFile, "--acme-ca-file (POSTERN_ACME_CA_FILE)")];
      if (!caCerts[0].includes("-----BEGIN CERTIFICATE-----")) {
        throw new StartError(
          `Cannot use --acme-ca-file (POSTERN_ACME_CA_FILE) "${acme.caFile}": it holds no PEM certificate`,
        );
      }
    }
    return (services) => {
      // The published MTA-STS policies' host names join the certificate once their DNS points here.
      const resolver = new DnsResolver({ servers: config.dnsServers });
      const extraNames = () =>
        mtaStsNames({
          configured: acme.domains,
          domains: () => services.domains.list(),
          addresses: (name) => resolver.addresses(name),
        });
      const certificates = acmeCertificates(services.store.certificates, {
        encryptionKey: services.encryptionKey,
        acme: { ...acme, caCerts, extraNames },
        log: getLogger(["postern", "tls"]),
      });
      const intercept = acme.challenge === "tls-alpn-01"
        ? acmeAlpnResponder((name) => certificates.alpnChallenge(name), {
          timeoutMs: config.headerTimeoutSeconds * 1000,
          log: getLogger(["postern", "tls"]),
        })
        : undefined;
      return { source: () => certificates.source(), acme: certificates, intercept };
    };
  }
  const { tlsCertFile, tlsKeyFile } = config.smtp;
  if (!tlsCertFile || !tlsKeyFile) return () => ({ source: undefined, acme: undefined });
  await readOrExplain(tlsCertFile, "--tls-cert (POSTERN_TLS_CERT)");
  await readOrExplain(tlsKeyFile, "--tls-key (POSTERN_TLS_KEY)");
  return () => ({ source: () => new ReloadingTlsFiles(tlsCertFile, tlsKeyFile), acme: undefined });
}

/** Binds the HTTPS address when --https-listen is set, or explains in one line why it cannot. */
export function bindHttps(config: Config): Deno.TcpListener | undefined {
  const listen = config.tls.httpsListen;
  if (!listen) return undefined;
  try {
    return Deno.listen({
      hostname: listen.hostname,
      port: listen.port,
      transport: "tcp",
      ...(config.reusePort ? { reusePort: true } : {}),
    });
  } catch (error) {
    throw listenError(error, listen.hostname, listen.port, "--https-listen (POSTERN_HTTPS_LISTEN)");
  }
}

async function readOrExplain(path: string, flag: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    const cause = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (error as Error)?.message ?? String(error);
    throw new StartError(`Cannot read ${flag} "${path}": ${cause}`);
  }
}

/** What the HTTPS listener shares with the HTTP one. */
export interface HttpsOptions {
  /** The bound address (see {@link bindHttps}). */
  listener: Deno.TcpListener;
  source: TlsSource;
  maxConnections: number;
  stats: ConnectionStats;
  handler: (request: Request, info: Deno.ServeHandlerInfo) => Promise<Response>;
  /** Reads each connection first (TLS-ALPN-01 answers, see {@link TlsSetup}). */
  intercept?: ConnectionIntercept;
}

/** Serves the application over TLS on the HTTPS listener, behind the same connection front as HTTP. */
export async function startHttps(config: Config, options: HttpsOptions): Promise<ConnectionFront> {
  const files = (await options.source.current()).files;
  const addr = options.listener.addr as Deno.NetAddr;
  return serveBehindFront({
    hostname: addr.hostname,
    port: addr.port,
    log: getLogger(["postern", "http"]),
    maxConnections: options.maxConnections,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    headerTimeoutMs: config.headerTimeoutSeconds * 1000,
    idleTimeoutMs: config.idleTimeoutSeconds * 1000,
    exempt: config.trustedProxies,
    stats: options.stats,
    listener: options.listener,
    tls: { files, source: options.source },
    intercept: options.intercept,
  }, options.handler);
}
