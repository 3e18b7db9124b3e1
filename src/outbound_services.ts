/**
 * The outbound half of the services (services.ts builds it): MTA-STS policies of recipient domains
 * and the TLS outcomes recorded for reporting, the SMTP transport (MX delivery and relays, one client
 * with connections kept for the next message), the outbound queue automatic mail goes into, and the
 * delivery worker with its metrics.
 */
import { getLogger } from "@logtape/logtape";
import type { SettingsService } from "./directory/mod.ts";
import { DnsResolver } from "./dns/mod.ts";
import {
  type BounceComposer,
  byRoute,
  composeDsn,
  DeliveryMetrics,
  type LocalDelivery,
  OutboundQueue,
  QueueWorker,
  type QueueWorkerDeps,
} from "./mail/mod.ts";
import {
  httpsPolicyFetcher,
  MtaStsCache,
  type OutboundTransport,
  type PolicyFetchOptions,
  SmtpTransport,
  TlsReportRecorder,
} from "./outbound/mod.ts";
import type { Store } from "./store/mod.ts";

/** What the outbound services are built from. */
export interface OutboundDeps {
  store: Store;
  settings: SettingsService;
  write: QueueWorkerDeps["write"];
  /** Local delivery: bounces and delay notices go into the sender's Inbox. */
  local: LocalDelivery;
  /** DKIM-signs a message of a local domain. */
  sign: (message: Uint8Array) => Promise<Uint8Array>;
  /** This server's mail host name: the EHLO name and the bounces' Reporting-MTA. */
  mailHost: string;
  dnsServers?: readonly string[];
  policyFetch?: Omit<PolicyFetchOptions, "addresses">;
  /** Replaces the transport of the MX route (tests); relays keep the SMTP transport. */
  mxTransport?: OutboundTransport;
  bounces?: BounceComposer;
  /** Where a bounce to an envelope sender goes (the sender behind an SRS address: forwarding). */
  returnPath?: (mailFrom: string) => string;
}

/** The outbound services. */
export interface OutboundServices {
  mtaSts: MtaStsCache;
  tlsReports: TlsReportRecorder;
  outboundQueue: OutboundQueue;
  queue: QueueWorker;
  deliveryMetrics: DeliveryMetrics;
  /** Ends the connections kept for reuse. */
  close(): Promise<void>;
}

/** Builds the outbound services. */
export function openOutbound(deps: OutboundDeps): OutboundServices {
  const { store, settings } = deps;
  const resolver = new DnsResolver({ servers: deps.dnsServers });
  const tlsReports = new TlsReportRecorder({ store: store.mtaSts });
  const mtaSts = new MtaStsCache({
    resolver,
    fetch: httpsPolicyFetcher({ ...deps.policyFetch, addresses: (name) => resolver.addresses(name) }),
    store: store.mtaSts,
    reporter: tlsReports,
  });
  // Connections are kept for the next message to the same server (outbound/connection_cache.ts).
  const smtpTransport = new SmtpTransport({
    resolver,
    ehloName: deps.mailHost,
    mxPort: async () => (await settings.get("Outbound")).mxPort,
    mtaSts,
    tlsReporter: tlsReports,
    reuseConnections: {},
  });
  const outboundQueue = new OutboundQueue(store, deps.sign);
  const queueLog = getLogger(["postern", "queue"]);
  const deliveryMetrics = new DeliveryMetrics();
  const queue = new QueueWorker({
    store,
    write: deps.write,
    outbound: () => settings.get("Outbound"),
    smarthost: () => settings.get("Smarthost"),
    transport: deliveryMetrics.counting(
      byRoute({ relay: smtpTransport, mx: deps.mxTransport ?? smtpTransport }),
    ),
    local: deps.local,
    bounces: deps.bounces ?? composeDsn,
    returnPath: deps.returnPath,
    reportingMta: deps.mailHost,
    sign: deps.sign,
    warn: (message) => queueLog.warn(message),
  });
  return { mtaSts, tlsReports, outboundQueue, queue, deliveryMetrics, close: () => smtpTransport.close() };
}
