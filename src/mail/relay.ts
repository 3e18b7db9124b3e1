/**
 * Relaying: mail for a domain whose route is a relay (the smarthost, or a server of the Outbound
 * relay table) goes to that server as one SMTP transaction (nodemailer). This is the
 * OutboundTransport for `{ kind: "relay" }` routes; {@link byRoute} puts it beside the transport
 * for direct MX delivery. Each recipient's result follows the relay's reply: accepted is
 * delivered (out of our hands from there: no DSN comes back here), 5xx is permanent, 4xx and a
 * relay that cannot be reached or times out are temporary (the queue tries again).
 */
import { Buffer } from "node:buffer";
import nodemailer from "nodemailer";
import type { OutboundMessage, OutboundTransport, RecipientResult, Relay, Route } from "../outbound/mod.ts";

interface SendInfo {
  accepted: (string | { address: string })[];
  rejected: (string | { address: string })[];
  rejectedErrors?: { recipient?: string; response?: string; message?: string }[];
  response: string;
}

/** The kind of result a reply is: 2xx delivered, 5xx permanent, anything else temporary. */
export function replyKind(reply: string): RecipientResult["kind"] {
  if (/^2\d\d/.test(reply)) return "delivered";
  return /^5\d\d/.test(reply) ? "permanent" : "temporary";
}

/** Delivers through relays; a route that is not a relay is refused temporarily (see byRoute). */
export class RelayTransport implements OutboundTransport {
  /** `timeoutSeconds`: the longest wait for the connection and each reply (Smarthost.timeoutSeconds). */
  constructor(private readonly timeoutSeconds: () => Promise<number>) {}

  async deliver(
    _domain: string,
    route: Route,
    message: OutboundMessage,
    signal?: AbortSignal,
  ): Promise<Record<string, RecipientResult>> {
    const everyone = (reply: string, remoteMta?: string): Record<string, RecipientResult> =>
      Object.fromEntries(message.recipients.map((r) => [r, { reply, kind: replyKind(reply), remoteMta }]));
    if (route.kind !== "relay") {
      return everyone("451 4.3.5 This transport delivers only through relays, not by MX");
    }
    const relay = route.relay;
    const where = `${relay.host}:${relay.port}`;
    const timeout = await this.timeoutSeconds() * 1000;
    const transport = nodemailer.createTransport(transportOptions(relay, timeout, message.mailFrom));
    const abort = () => transport.close();
    signal?.addEventListener("abort", abort, { once: true });
    try {
      const info = await transport.sendMail({
        envelope: { from: message.mailFrom, to: message.recipients },
        raw: Buffer.from(message.message.buffer, message.message.byteOffset, message.message.length),
        ...(message.envelopeId ? { dsn: { id: message.envelopeId } } : {}),
      }) as SendInfo;
      const address = (a: string | { address: string }) =>
        (typeof a === "string" ? a : a.address).toLowerCase();
      const accepted = new Set(info.accepted.map(address));
      const refusals = new Map(
        (info.rejectedErrors ?? []).map((
          e,
        ) => [(e.recipient ?? "").toLowerCase(), e.response ?? e.message ?? ""]),
      );
      return Object.fromEntries(message.recipients.map((r): [string, RecipientResult] => {
        const key = r.toLowerCase();
        if (accepted.has(key)) {
          return [r, {
            reply: `${info.response} (relayed through ${where})`,
            kind: "delivered",
            remoteMta: where,
          }];
        }
        const reply = refusals.get(key) || `550 5.0.0 Refused by the relay ${where}`;
        return [r, { reply, kind: replyKind(reply), remoteMta: where }];
      }));
    } catch (error) {
      const e = error as { response?: string; code?: string; message?: string };
      // A reply of the relay (a refused sender, message or login) is kept as it came.
      if (e.response && /^\d{3}/.test(e.response)) return everyone(e.response, where);
      return everyone(
        `451 4.4.1 The relay ${where} could not be reached: ${
          signal?.aborted ? "gave up (claim running out)" : e.message ?? e.code ?? error
        }`,
      );
    } finally {
      signal?.removeEventListener("abort", abort);
      transport.close();
    }
  }
}

function transportOptions(relay: Relay, timeout: number, mailFrom: string) {
  return {
    host: relay.host,
    port: relay.port,
    secure: relay.security === "tls",
    requireTLS: relay.security === "starttls",
    // "none": plain, but STARTTLS when offered (the contract's meaning), certificate not checked
    // since a relay of the table is often addressed by IP.
    tls: relay.security === "none" ? { rejectUnauthorized: false } : undefined,
    auth: relay.username ? { user: relay.username, pass: relay.password ?? "" } : undefined,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    name: mailFrom.split("@")[1] || undefined,
  };
}

/** One transport per route kind: relays through `relay`, MX routes through `mx`. */
export function byRoute(transports: { relay: OutboundTransport; mx: OutboundTransport }): OutboundTransport {
  return {
    deliver: (domain, route, message, signal) =>
      (route.kind === "relay" ? transports.relay : transports.mx).deliver(domain, route, message, signal),
  };
}

/**
 * The MX transport of a build without one: every recipient is deferred (the queue keeps the mail
 * until a transport is configured or the route is changed to the smarthost).
 */
export const NO_MX_TRANSPORT: OutboundTransport = {
  deliver: (domain, _route, message) =>
    Promise.resolve(Object.fromEntries(message.recipients.map((r) => [r, {
      reply:
        `451 4.3.5 Direct delivery to ${domain} by MX is not available; set the Outbound route to smarthost`,
      kind: "temporary" as const,
    }]))),
};
