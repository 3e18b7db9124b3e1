/**
 * The SMTP transport: delivers one message to the recipients of one domain (OutboundTransport in
 * mod.ts). Read in order:
 *
 * 1. `deliver` picks the hosts: the domain's MX hosts (mx.ts; RFC 5321 §5.1), narrowed by an
 *    MTA-STS `enforce` policy (RFC 8461 §4.1), or the relay the route names.
 * 2. `#tryHosts` tries each host, each of its addresses, until every recipient has a final answer.
 *    An address that gives no transaction (refused, silent, a 4xx greeting, TLS failed) passes the
 *    turn to the next; recipients a server answered with 4xx are offered to the next host too, as
 *    Postfix does; delivered (2xx) and refused (5xx) recipients are settled.
 * 3. Each session (smtp_session.ts) says how TLS went; with an MTA-STS policy in `enforce` mode TLS
 *    is required and the certificate must be valid for the MX host name, in `testing` mode a failed
 *    check is recorded and the mail goes anyway; every outcome goes to the TLS reporter (RFC 8460).
 * 4. What is still pending when the hosts run out is temporary, with the last reason.
 */
import type {
  MtaStsPolicy,
  MtaStsSource,
  OutboundMessage,
  OutboundTransport,
  RecipientResult,
  Relay,
  Route,
  TlsReporter,
} from "./types.ts";
import { addressesOf, type MxHost, mxHostsOf, type MxResolver } from "./mx.ts";
import { mxMatchesPolicy } from "./mta_sts_policy.ts";
import {
  quitConnection,
  type SessionOptions,
  type SessionOutcome,
  type SessionTls,
  smtpSession,
} from "./smtp_session.ts";
import { DEFAULT_SMTP_TIMEOUTS, type SmtpTimeouts } from "./smtp_timeouts.ts";
import { abortedReply } from "./replies.ts";
import { ConnectionCache, type ConnectionCacheLimits } from "./connection_cache.ts";

/** What the transport is built with. */
export interface SmtpTransportOptions {
  /** Every DNS look-up goes through it (src/dns's DnsResolver). */
  resolver: MxResolver;
  /** The name given with EHLO: this server's mail host name. */
  ehloName: string;
  /** The port of MX hosts (25; tests use another). */
  mxPort?: number | (() => Promise<number>);
  /** MTA-STS policies of recipient domains; none: no policy is ever applied. */
  mtaSts?: MtaStsSource | null;
  /** Where TLS outcomes are recorded for TLS reporting. */
  tlsReporter?: TlsReporter | null;
  /** Waits of a session; the RFC 5321 §4.5.3.2 values by default. */
  timeouts?: Partial<SmtpTimeouts>;
  /** Extra CA certificates (PEM) trusted when a certificate is verified (tests; private relays). */
  ca?: string[];
  /** The order of MX hosts of equal preference (tests fix it). */
  random?: () => number;
  /**
   * Keep connections open between messages to the same server (connection_cache.ts), with these
   * limits; absent: every message has its own connection. Whoever turns it on calls `close()`.
   */
  reuseConnections?: Partial<ConnectionCacheLimits>;
}

/** One host as the loop tries it. */
interface Target {
  host: MxHost;
  port: number;
  tls: SessionTls;
  verify: boolean;
  auth?: { user: string; pass: string };
  /** Its own waits (a relay's timeoutSeconds); none: the transport's. */
  timeouts?: SmtpTimeouts;
}

/** What the loop knows of the MTA-STS policy that applies. */
interface StsContext {
  domain: string;
  policy: MtaStsPolicy | null;
}

/** Delivers by SMTP to MX hosts or a relay. */
export class SmtpTransport implements OutboundTransport {
  readonly #options: SmtpTransportOptions;
  readonly #timeouts: SmtpTimeouts;
  readonly #cache: ConnectionCache | undefined;

  constructor(options: SmtpTransportOptions) {
    this.#options = options;
    this.#timeouts = { ...DEFAULT_SMTP_TIMEOUTS, ...options.timeouts };
    this.#cache = options.reuseConnections
      ? new ConnectionCache(options.reuseConnections, (conn) => quitConnection(conn))
      : undefined;
  }

  /** Connections waiting for another message (0 without reuse). */
  get idleConnections(): number {
    return this.#cache?.size ?? 0;
  }

  /** Ends the connections kept for reuse; later deliveries open and end their own. */
  async close(): Promise<void> {
    await this.#cache?.close();
  }

  /** Delivers `message` to its recipients (all of `domain`) by `route`; never throws. */
  async deliver(
    domain: string,
    route: Route,
    message: OutboundMessage,
    signal?: AbortSignal,
  ): Promise<Record<string, RecipientResult>> {
    const recipients = [...new Set(message.recipients)];
    if (recipients.length === 0) return {};
    const mail = { ...message, recipients };
    try {
      if (route.kind === "relay") return await this.#viaRelay(route.relay, mail, signal);
      return await this.#viaMx(domain.toLowerCase(), mail, signal);
    } catch (error) {
      // A bug or a resolver that throws oddly must still leave every recipient with a result.
      const reply = `451 4.3.0 Delivery to ${domain} failed: ${(error as Error)?.message ?? error}`;
      return Object.fromEntries(recipients.map((r) => [r, { reply, kind: "temporary" as const }]));
    }
  }

  async #viaMx(domain: string, mail: OutboundMessage, signal?: AbortSignal) {
    const lookup = await mxHostsOf(this.#options.resolver, domain, { random: this.#options.random });
    if ("failure" in lookup) return everyone(mail.recipients, lookup.failure);
    const policy = await this.#policyOf(domain);
    let hosts = lookup.hosts;
    if (policy && policy.mode !== "none") {
      for (const host of hosts.filter((h) => !mxMatchesPolicy(policy, h.name))) {
        // No RFC 8460 result type names "MX not in the policy"; validation-failure is the general one.
        this.#report({ domain, mx: host.name, policy: "sts", failure: "validation-failure" });
      }
      if (policy.mode === "enforce") hosts = hosts.filter((h) => mxMatchesPolicy(policy, h.name));
    }
    if (hosts.length === 0) {
      return everyone(mail.recipients, {
        kind: "temporary",
        reply: `451 4.7.5 No MX host of ${domain} matches its MTA-STS policy (mx: ${policy?.mx.join(", ")})`,
      });
    }
    const sts = policy?.mode === "enforce" || policy?.mode === "testing";
    const mxPort = this.#options.mxPort ?? 25;
    const port = typeof mxPort === "number" ? mxPort : await mxPort();
    const targets = hosts.map((host): Target => ({
      host,
      port,
      tls: sts ? "starttls" : "opportunistic",
      verify: sts,
    }));
    return await this.#tryHosts(targets, mail, { domain, policy }, signal);
  }

  async #viaRelay(relay: Relay, mail: OutboundMessage, signal?: AbortSignal) {
    const name = relay.host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
    const literal = /^[\d.]+$|:/.test(name);
    let addresses: string[] | undefined;
    if (literal) addresses = [name];
    else {
      // A relay name the resolver does not know ("localhost", a name in /etc/hosts) is left to
      // the system's resolver when connecting.
      addresses = await addressesOf(this.#options.resolver, { name, preference: 0 }).catch(() => []);
      if (addresses.length === 0) addresses = [name];
    }
    const tls: SessionTls = relay.security === "tls"
      ? "implicit"
      : relay.security === "starttls"
      ? "starttls"
      : "opportunistic";
    const target: Target = {
      host: { name, preference: 0, addresses },
      port: relay.port,
      tls,
      verify: tls !== "opportunistic",
      auth: relay.username ? { user: relay.username, pass: relay.password ?? "" } : undefined,
      timeouts: relay.timeoutSeconds ? uniformTimeouts(relay.timeoutSeconds * 1000) : undefined,
    };
    return await this.#tryHosts([target], mail, undefined, signal);
  }

  /** Tries each target and each of its addresses until every recipient is settled. */
  async #tryHosts(
    targets: Target[],
    mail: OutboundMessage,
    sts: StsContext | undefined,
    signal?: AbortSignal,
  ): Promise<Record<string, RecipientResult>> {
    const results: Record<string, RecipientResult> = {};
    let pending = [...mail.recipients];
    let lastReply = "451 4.4.1 No host to try";
    for (const target of targets) {
      let addresses: string[];
      try {
        addresses = await addressesOf(this.#options.resolver, target.host);
      } catch (error) {
        lastReply = `451 4.4.3 DNS lookup of the addresses of ${target.host.name} failed: ${
          (error as { code?: string })?.code ?? error
        }`;
        continue;
      }
      if (addresses.length === 0) lastReply = `451 4.4.4 Host ${target.host.name} has no address (A/AAAA)`;
      for (const address of addresses) {
        if (signal?.aborted) break;
        const outcome = await this.#session(target, address, { ...mail, recipients: pending }, sts, signal);
        if (signal?.aborted) break;
        if (outcome.kind === "unusable") {
          lastReply = outcome.reply;
          continue;
        }
        for (const [recipient, result] of Object.entries(outcome.results)) results[recipient] = result;
        pending = pending.filter((r) => results[r].kind === "temporary");
        if (pending.length === 0) return results;
        lastReply = results[pending[0]].reply;
        // A host that answered has had its say; the next host may take the deferred ones.
        break;
      }
      if (signal?.aborted) break;
    }
    const reason = signal?.aborted ? abortedReply(signal) : undefined;
    for (const recipient of pending) {
      if (reason) results[recipient] = { reply: reason, kind: "temporary" };
      else results[recipient] ??= { reply: lastReply, kind: "temporary" };
    }
    return results;
  }

  /** One session, with MTA-STS's rules and what TLS reporting records. */
  async #session(
    target: Target,
    address: string,
    mail: OutboundMessage,
    sts: StsContext | undefined,
    signal?: AbortSignal,
  ): Promise<SessionOutcome> {
    const options: SessionOptions = {
      host: target.host.name,
      address,
      port: target.port,
      tls: target.tls,
      verify: target.verify,
      ca: this.#options.ca,
      ehloName: this.#options.ehloName,
      auth: target.auth,
      timeouts: target.timeouts ?? this.#timeouts,
      signal,
      cache: this.#cache,
    };
    let outcome = await smtpSession(options, mail);
    if (!sts || outcome.kind === "unusable" && outcome.aborted) return outcome;
    const mode = sts.policy?.mode;
    const policy = mode === "enforce" || mode === "testing" ? "sts" : "no-policy-found";
    const record = (failure?: string) =>
      this.#report({ domain: sts.domain, mx: target.host.name, policy, ...(failure ? { failure } : {}) });
    if (outcome.kind === "unusable" && outcome.tlsFailure) {
      record(outcome.tlsFailure);
      if (mode === "enforce") return outcome;
      // testing (RFC 8461 §5) or no policy: deliver anyway, without TLS if TLS itself failed.
      const retry: SessionTls = mode === "testing" && outcome.tlsFailure !== "starttls-not-supported"
        ? "opportunistic"
        : "plain";
      outcome = await smtpSession({ ...options, tls: retry, verify: false }, mail);
      return outcome;
    }
    if (outcome.kind === "answered") record(outcome.tls ? undefined : "starttls-not-supported");
    return outcome;
  }

  async #policyOf(domain: string): Promise<MtaStsPolicy | null> {
    if (!this.#options.mtaSts) return null;
    try {
      return await this.#options.mtaSts.policyFor(domain);
    } catch {
      // RFC 8461 §5: a policy that cannot be had is no policy.
      return null;
    }
  }

  #report(result: Parameters<TlsReporter["record"]>[0]): void {
    try {
      this.#options.tlsReporter?.record(result);
    } catch { /* reporting never fails a delivery */ }
  }
}

/** Every recipient gets `result`. */
function everyone(recipients: string[], result: RecipientResult): Record<string, RecipientResult> {
  return Object.fromEntries(recipients.map((r) => [r, { ...result }]));
}

/** The same wait for the connection and every reply. */
function uniformTimeouts(ms: number): SmtpTimeouts {
  return {
    connectMs: ms,
    greetingMs: ms,
    mailMs: ms,
    rcptMs: ms,
    dataInitMs: ms,
    dataBlockMs: ms,
    endOfDataMs: ms,
  };
}
