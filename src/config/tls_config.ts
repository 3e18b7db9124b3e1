/**
 * Bootstrap settings of TLS beyond the SMTP listener's files: the HTTPS listener and ACME (RFC 8555).
 * Certificates come from --tls-cert/--tls-key (see smtp_config.ts) or, with --acme-directory, are
 * ordered from an ACME CA, stored in the database and renewed by src/tls/.
 */
import { ConfigError } from "./errors.ts";

/** Let's Encrypt's production directory, the usual value of --acme-directory. */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

/** The resolved TLS settings. */
export interface TlsConfig {
  /** Where HTTPS listens; undefined: no HTTPS listener. */
  httpsListen: { hostname: string; port: number } | undefined;
  /** ACME; undefined: certificates only from files. */
  acme: AcmeConfig | undefined;
}

/** Where and for what names certificates are ordered. */
export interface AcmeConfig {
  directoryUrl: string;
  /** Contact address given to the CA (optional in RFC 8555 §7.3). */
  email: string | undefined;
  /** Names the certificate covers, first one its subject. */
  domains: string[];
  /** A PEM file of extra CA roots trusted for the directory's HTTPS (a test CA such as Pebble's). */
  caFile: string | undefined;
  /**
   * How the CA validates the names: HTTP-01 on the HTTP listener (port 80) or TLS-ALPN-01 (RFC 8737)
   * on the HTTPS listener (port 443).
   */
  challenge: AcmeChallenge;
}

/** The ACME challenge types Postern answers. */
export type AcmeChallenge = "http-01" | "tls-alpn-01";

/** Raw TLS options as the CLI parsed them. */
export interface TlsConfigInput {
  httpsListen?: string;
  acmeDirectory?: string;
  acmeEmail?: string;
  acmeDomains?: string;
  acmeCaFile?: string;
  acmeChallenge?: string;
}

/** The environment variables of HTTPS and ACME, with what they set. */
export const TLS_ENVIRONMENT = {
  POSTERN_HTTPS_LISTEN: "address of the HTTPS listener, host:port (default: none)",
  POSTERN_ACME_DIRECTORY: `ACME directory URL, e.g. ${LETS_ENCRYPT_DIRECTORY} (default: none, no ACME)`,
  POSTERN_ACME_EMAIL: "contact address registered with the ACME CA (default: none)",
  POSTERN_ACME_DOMAINS:
    "comma-separated names of the ACME certificate (default: the domain, public URL host and mail host)",
  POSTERN_ACME_CA_FILE: "PEM file of extra roots trusted for the ACME directory (test CAs such as Pebble)",
  POSTERN_ACME_CHALLENGE:
    "http-01 (on the HTTP listener) or tls-alpn-01 (on the HTTPS listener); default http-01",
} as const;

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Resolves the HTTPS and ACME flags and environment. */
export function resolveTlsConfig(
  input: TlsConfigInput,
  env: Record<string, string | undefined>,
  context: {
    parseListen: (text: string) => { hostname: string; port: number };
    domain: string;
    publicUrl: string | undefined;
    /** The mail service's public host name (--mail-host), a name clients connect to. */
    mailHost?: string;
    tlsFiles: boolean;
  },
): TlsConfig {
  const httpsText = input.httpsListen ?? (env.POSTERN_HTTPS_LISTEN || undefined);
  const directory = input.acmeDirectory ?? (env.POSTERN_ACME_DIRECTORY || undefined);
  const email = input.acmeEmail ?? (env.POSTERN_ACME_EMAIL || undefined);
  const domainsText = input.acmeDomains ?? (env.POSTERN_ACME_DOMAINS || undefined);
  const caFile = input.acmeCaFile ?? (env.POSTERN_ACME_CA_FILE || undefined);
  const challengeText = input.acmeChallenge ?? (env.POSTERN_ACME_CHALLENGE || undefined);
  let httpsListen;
  try {
    httpsListen = httpsText ? context.parseListen(httpsText) : undefined;
  } catch (error) {
    throw new ConfigError(`Invalid --https-listen (POSTERN_HTTPS_LISTEN): ${(error as Error).message}`);
  }
  if (directory === undefined) {
    for (
      const [given, flag] of [
        [email, "--acme-email"],
        [domainsText, "--acme-domains"],
        [caFile, "--acme-ca-file"],
        [challengeText, "--acme-challenge"],
      ] as const
    ) {
      if (given !== undefined) throw new ConfigError(`Invalid ${flag}: it needs --acme-directory`);
    }
    if (httpsListen && !context.tlsFiles) {
      throw new ConfigError(
        "Invalid --https-listen (POSTERN_HTTPS_LISTEN): it needs --tls-cert/--tls-key or --acme-directory",
      );
    }
    return { httpsListen, acme: undefined };
  }
  if (context.tlsFiles) {
    throw new ConfigError("Invalid --acme-directory: certificates come from ACME or --tls-cert, not both");
  }
  if (!URL.canParse(directory) || new URL(directory).protocol !== "https:") {
    throw new ConfigError(
      `Invalid --acme-directory (POSTERN_ACME_DIRECTORY) "${directory}": an https URL such as ${LETS_ENCRYPT_DIRECTORY}`,
    );
  }
  if (email !== undefined && !/^[^\s@<>]+@[^\s@<>]+$/.test(email)) {
    throw new ConfigError(
      `Invalid --acme-email (POSTERN_ACME_EMAIL) "${email}": an address such as admin@example.org`,
    );
  }
  const fallback = [context.domain];
  if (context.publicUrl) fallback.push(new URL(context.publicUrl).hostname.toLowerCase());
  if (context.mailHost) fallback.push(context.mailHost);
  const domains = domainsText === undefined
    ? [...new Set(fallback)]
    : [...new Set(domainsText.split(",").map((name) => name.trim().toLowerCase()).filter(Boolean))];
  const bad = domains.find((name) => !DOMAIN.test(name));
  if (domains.length === 0 || bad !== undefined) {
    throw new ConfigError(
      `Invalid --acme-domains (POSTERN_ACME_DOMAINS) "${domainsText ?? domains.join(",")}": ` +
        "comma-separated domain names such as mail.example.org,example.org",
    );
  }
  const challenge = challengeText ?? "http-01";
  if (challenge !== "http-01" && challenge !== "tls-alpn-01") {
    throw new ConfigError(
      `Invalid --acme-challenge (POSTERN_ACME_CHALLENGE) "${challenge}": http-01 or tls-alpn-01`,
    );
  }
  if (challenge === "tls-alpn-01" && !httpsListen) {
    throw new ConfigError(
      "Invalid --acme-challenge tls-alpn-01: it is answered on the HTTPS listener, so it needs --https-listen",
    );
  }
  return { httpsListen, acme: { directoryUrl: directory, email, domains, caFile, challenge } };
}
