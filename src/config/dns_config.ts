/**
 * The DNS servers Postern asks (SPF, DKIM, DMARC and ARC of incoming mail; later MX look-ups of
 * outgoing mail): `--dns-server HOST[:PORT]` or POSTERN_DNS_SERVER, several comma-separated, tried in
 * order. None: the system's resolver (/etc/resolv.conf). An address, never a name: a name would need
 * a resolver to be found.
 */
import { isIP } from "node:net";
import { ConfigError } from "./errors.ts";

/** The environment variable of the DNS servers, with what it sets. */
export const DNS_ENVIRONMENT = {
  POSTERN_DNS_SERVER:
    "DNS servers to ask, HOST[:PORT] comma-separated (IPv6 in brackets with a port; default: the system's)",
} as const;

/**
 * The servers of `--dns-server` (or the environment) in the form node:dns `setServers` takes
 * ("192.0.2.1:5353", "[2001:db8::1]:53", "192.0.2.1"); an empty list means the system's resolver.
 */
export function resolveDnsServers(
  given: string | undefined,
  env: Record<string, string | undefined>,
): string[] {
  const text = given ?? env.POSTERN_DNS_SERVER ?? "";
  return text.split(",").map((s) => s.trim()).filter(Boolean).map(dnsServer);
}

/** One HOST[:PORT]: an IPv4 address, an IPv6 address (bracketed when a port follows), a port 1-65535. */
export function dnsServer(text: string): string {
  const bad = (why: string) => new ConfigError(`Invalid --dns-server (POSTERN_DNS_SERVER) "${text}": ${why}`);
  let host = text;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) [, host, port] = bracketed;
  else if (isIP(text) !== 6) {
    const colon = text.lastIndexOf(":");
    if (colon >= 0) [host, port] = [text.slice(0, colon), text.slice(colon + 1)];
  }
  const family = isIP(host);
  if (!family) throw bad("the host must be an IPv4 or IPv6 address");
  if (port !== undefined) {
    const n = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
    if (!(n >= 1 && n <= 65535)) throw bad("the port must be a whole number from 1 to 65535");
  }
  if (port === undefined) return host;
  return family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
