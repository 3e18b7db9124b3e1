/**
 * The public host name of the mail service (`--mail-host`, POSTERN_MAIL_HOST): what MX records
 * point at and what mail clients are told to connect to. Default: the host of --public-url, else
 * none (each domain's records then name the domain itself).
 */
import { ConfigError } from "./errors.ts";

/** The raw option. */
export interface MailHostInput {
  mailHost?: string;
}

/** The environment variable of the mail host name. */
export const MAIL_HOST_ENVIRONMENT = {
  POSTERN_MAIL_HOST:
    "public host name of the mail service, for DNS records and mail-client settings (default: the host of POSTERN_PUBLIC_URL, else each mail domain itself)",
} as const;

const HOST_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Resolves the mail host name. */
export function resolveMailHost(
  input: MailHostInput,
  env: Record<string, string | undefined>,
  fallback: { publicUrl: string | undefined },
): string | undefined {
  const given = input.mailHost ?? (env.POSTERN_MAIL_HOST || undefined);
  if (given === undefined) {
    return fallback.publicUrl ? new URL(fallback.publicUrl).hostname.toLowerCase() : undefined;
  }
  const host = given.trim().toLowerCase().replace(/\.$/, "");
  if (host.length > 253 || !HOST_NAME.test(host)) {
    throw new ConfigError(
      `Invalid --mail-host (POSTERN_MAIL_HOST) "${given}": a host name such as mail.example.org`,
    );
  }
  return host;
}
