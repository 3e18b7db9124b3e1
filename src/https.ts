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
import { type AcmeCertificates, acmeCertificates } from "./tls/mod.ts";

/**
 * Where listeners get their certificate (a new source per listener: each tracks what it last served,
 * so each learns of a change), and ACME's renewer when certificates come from ACME.
 */
export interface TlsSetup {
  source: (() => TlsSource) | undefined;
  acme: AcmeCertificates | undefined;
}

/** Builds the certificate source of the configuration, checking its files (one-line errors naming the flag). */
export async function prepareTls(config: Config, services: Services): Promise<TlsSetup> {
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
    const certificates = acmeCertificates(services.store.certificates, {
      encryptionKey: services.encryptionKey,
      acme: { ...acme, caCerts },
      log: getLogger(["postern", "tls"]),
    });
    return { source: () => certificates.source(), acme: certificates };
  }
  const { tlsCertFile, tlsKeyFile } = config.smtp;
  if (!tlsCertFile || !tlsKeyFile) return { source: undefined, acme: undefined };
  await readOrExplain(tlsCertFile, "--tls-cert (POSTERN_TLS_CERT)");
  await readOrExplain(tlsKeyFile, "--tls-key (POSTERN_TLS_KEY)");
  return { source: () => new ReloadingTlsFiles(tlsCertFile, tlsKeyFile), acme: undefined };
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
  source: TlsSource;
  maxConnections: number;
  stats: ConnectionStats;
  handler: (request: Request, info: Deno.ServeHandlerInfo) => Promise<Response>;
}

/** Starts the HTTPS listener when --https-listen is set (a start error naming it when it cannot bind). */
export async function startHttps(
  config: Config,
  options: HttpsOptions,
): Promise<ConnectionFront | undefined> {
  const listen = config.tls.httpsListen;
  if (!listen) return undefined;
  const files = (await options.source.current()).files;
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: listen.hostname, port: listen.port, transport: "tcp" });
  } catch (error) {
    throw listenError(error, listen.hostname, listen.port, "--https-listen (POSTERN_HTTPS_LISTEN)");
  }
  return serveBehindFront({
    hostname: listen.hostname,
    port: listen.port,
    log: getLogger(["postern", "http"]),
    maxConnections: options.maxConnections,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    headerTimeoutMs: config.headerTimeoutSeconds * 1000,
    idleTimeoutMs: config.idleTimeoutSeconds * 1000,
    exempt: config.trustedProxies,
    stats: options.stats,
    listener,
    tls: { files, source: options.source },
  }, options.handler);
}
