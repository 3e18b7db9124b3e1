/**
 * The queue's two decisions that depend only on the settings: which route mail for a domain takes,
 * when a recipient that failed temporarily is tried again (or given up), and which transport takes a route.
 */
import type { OutboundSettings, SmarthostSettings } from "../model/objects/mod.ts";
import type { OutboundTransport, Route } from "../outbound/mod.ts";

/**
 * The route for `domain`: a relay of the table first (the most specific), then the smarthost when
 * it is the route or the domain is one of `smarthostDomains`, else its MX. A smarthost route with no
 * smarthost host set is a configuration error: a reply to defer with (the operator can fix it).
 */
export function routeFor(
  domain: string,
  outbound: OutboundSettings,
  smarthost: SmarthostSettings | undefined,
): Route | { unavailable: string } {
  const relay = outbound.relays.find((r) => r.domain === domain);
  if (relay) {
    return { kind: "relay", relay: { host: relay.host, port: relay.port, security: relay.security } };
  }
  if (usesSmarthost(domain, outbound)) {
    if (!smarthost?.host) {
      return {
        unavailable: `451 4.3.5 Mail for ${domain} goes through the smarthost, but no Smarthost host is set`,
      };
    }
    return {
      kind: "relay",
      relay: {
        host: smarthost.host,
        port: smarthost.port,
        security: smarthost.security,
        username: smarthost.username,
        password: smarthost.password,
        timeoutSeconds: smarthost.timeoutSeconds,
      },
    };
  }
  return { kind: "mx" };
}

/**
 * Whether mail for `domain` goes through the smarthost: the caller reads the Smarthost settings (a
 * sealed password to open) only then, not for every delivery.
 */
export function usesSmarthost(domain: string, outbound: OutboundSettings): boolean {
  if (outbound.relays.some((r) => r.domain === domain)) return false;
  return outbound.route === "smarthost" || outbound.smarthostDomains.includes(domain);
}

/**
 * When a recipient is tried again after its `attempts`-th attempt failed temporarily at `now`: the
 * first retry after firstRetrySeconds, each wait doubling up to maxRetrySeconds (Postfix's
 * minimal_backoff_time and maximal_backoff_time), never past the message's expiry, so expired mail
 * is failed on time. undefined: the message is past maxAgeSeconds, give up ("expired").
 */
export function nextAttempt(
  settings: OutboundSettings,
  { attempts, createdAt, now }: { attempts: number; createdAt: number; now: number },
): number | undefined {
  const expiry = createdAt + settings.maxAgeSeconds * 1000;
  if (now >= expiry) return undefined;
  const doubling = Math.min(Math.max(attempts - 1, 0), 30);
  const wait = Math.min(settings.firstRetrySeconds * 2 ** doubling, settings.maxRetrySeconds) * 1000;
  return Math.min(now + wait, expiry);
}

/**
 * One transport per route kind: relays through `relay`, MX routes through `mx` (the server uses
 * one SmtpTransport for both; tests give their own for the MX route).
 */
export function byRoute(transports: { relay: OutboundTransport; mx: OutboundTransport }): OutboundTransport {
  return {
    deliver: (domain, route, message, signal) =>
      (route.kind === "relay" ? transports.relay : transports.mx).deliver(domain, route, message, signal),
  };
}
