/**
 * The connection limits of `postern serve` (enforced by http/connection_front.ts): their defaults,
 * how client addresses are grouped for the per-address cap, and the refusal a client over a cap gets.
 */

import type { MetricSample } from "./metrics.ts";

/** Limits on the TCP connections the public listener holds. */
export interface ConnectionLimits {
  /** Connections held at once, all clients together; more are refused with a 503. */
  maxConnections: number;
  /** Connections held at once from one client address (an IPv6 /64); trusted proxies are exempt. */
  maxConnectionsPerAddress: number;
  /** Time from a connection's opening to its first complete request head (slowloris); then closed. */
  headerTimeoutMs: number;
  /** Time a connection may pass without a byte in either direction; then closed. */
  idleTimeoutMs: number;
}

/** File descriptors kept back from connections: database, WAL, workers, logs, outgoing connections. */
export const RESERVED_DESCRIPTORS = 64;
/** Seconds a refused client is asked to wait (Retry-After). */
export const REFUSAL_RETRY_AFTER_SECONDS = 5;

/** The largest overall cap that fits `softLimit` open files (three per connection, some reserved). */
export function capForDescriptors(softLimit: number): number {
  return Math.max(16, Math.floor((softLimit - RESERVED_DESCRIPTORS) / 3));
}

/** The soft open-file limit (Linux, from /proc); undefined elsewhere. */
export function openFileLimit(): number | undefined {
  let limits: string;
  try {
    limits = Deno.readTextFileSync("/proc/self/limits");
  } catch {
    return undefined;
  }
  const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
  return Number.isFinite(soft) ? soft : undefined;
}

/**
 * The overall cap of `postern serve`: the configured one, or `fallback` lowered to fit the open-file
 * limit. Every connection holds three file descriptors (connection_front.ts): with a low soft limit
 * (often 1024) the cap is lowered to fit, or — set higher by hand — accepts fail (the server survives
 * that by closing idle connections); either way `warn` says how to raise the limit. Linux only.
 */
export function overallConnectionCap(
  configured: number | undefined,
  fallback: number,
  warn: (message: string) => void,
): number {
  const soft = openFileLimit();
  if (soft === undefined) return configured ?? fallback;
  const cap = configured ?? Math.min(fallback, capForDescriptors(soft));
  if (cap > capForDescriptors(soft)) {
    warn(
      `--max-connections ${cap} needs about ${cap * 3 + RESERVED_DESCRIPTORS} open files but the ` +
        `limit is ${soft}. Raise it (systemd LimitNOFILE=65536, or ulimit -n 65536)`,
    );
  } else if (soft < 4096) {
    warn(
      `The open-file limit is ${soft}, so at most ${cap} connections are held at once ` +
        "(three descriptors each). Raise it to 65536 or more (systemd LimitNOFILE=65536, or ulimit -n 65536)",
    );
  }
  return cap;
}

/**
 * The key a client address is counted under: the address itself for IPv4 (also when written as an
 * IPv4-mapped IPv6 address), its /64 for IPv6 — one subscriber usually holds a whole /64, so counting
 * single IPv6 addresses would not limit anyone.
 */
export function addressKey(hostname: string): string {
  if (!hostname.includes(":")) return hostname;
  const host = hostname.replace(/%.*$/, "").toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
  if (mapped) return mapped[1];
  const [head, tail] = host.split("::", 2) as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  // An embedded IPv4 tail ("::ffff:0:1.2.3.4", "64:ff9b::1.2.3.4") takes two groups.
  const width = (parts: string[]) => parts.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  const missing = Math.max(0, 8 - width(left) - width(right));
  const groups = tail === undefined ? left : [...left, ...Array(missing).fill("0"), ...right];
  const prefix = groups.slice(0, 4);
  while (prefix.length < 4) prefix.push("0");
  return `${prefix.map((g) => (g.replace(/^0+(?=.)/, "") || "0")).join(":")}::/64`;
}

const REFUSAL_BODY = (detail: string) =>
  JSON.stringify({ type: "about:blank", title: "Service Unavailable", status: 503, detail });

/** Refusals being written at once; past this a refused connection is closed without an answer. */
const MAX_LINGERING_REFUSALS = 64;
/** How long a refusal waits for the client's request bytes before closing (so they are not reset). */
const REFUSAL_LINGER_MS = 1_000;

/**
 * Answers a connection over a cap with {@link refusalBytes} and closes it; at most
 * MAX_LINGERING_REFUSALS at once (past that, a refused connection is closed without an answer).
 */
export function refuser(): (client: Deno.TcpConn, detail: string) => Promise<void> {
  let refusing = 0;
  return async (client, detail) => {
    if (refusing >= MAX_LINGERING_REFUSALS) return client.close();
    refusing++;
    try {
      await client.write(refusalBytes(detail));
      await client.closeWrite();
      // Read what the client sent, briefly, so closing does not reset the connection before it has
      // read the answer.
      const sink = new Uint8Array(4096);
      const deadline = setTimeout(() => client.close(), REFUSAL_LINGER_MS);
      try {
        while (await client.read(sink) !== null) { /* discard */ }
      } finally {
        clearTimeout(deadline);
      }
    } catch {
      /* the client went away or the linger ended */
    } finally {
      refusing--;
      try {
        client.close();
      } catch { /* already closed */ }
    }
  };
}

/** A complete HTTP/1.1 503 response (problem+json) for a connection refused at a cap. */
export function refusalBytes(detail: string): Uint8Array {
  const body = REFUSAL_BODY(detail);
  return new TextEncoder().encode(
    "HTTP/1.1 503 Service Unavailable\r\n" +
      "Content-Type: application/problem+json\r\n" +
      `Content-Length: ${new TextEncoder().encode(body).length}\r\n` +
      `Retry-After: ${REFUSAL_RETRY_AFTER_SECONDS}\r\n` +
      "Connection: close\r\n\r\n" + body,
  );
}

/** What the connection front of one listener did, for /metrics (labelled with the listener). */
export class ConnectionStats {
  /** `listener` names the front's listener in the samples: "http" or "https". */
  constructor(readonly listener = "http") {}

  /** Connections held now (set by the front). */
  open = 0;
  refusedPerAddress = 0;
  refusedOverall = 0;
  headerTimeouts = 0;
  idleTimeouts = 0;
  /** Idle connections closed to free descriptors after an accept error. */
  shed = 0;
  acceptErrors = 0;

  /** The samples /metrics shows. */
  samples(): MetricSample[] {
    const listener = this.listener;
    const counter = (name: string, help: string, value: number, labels?: Record<string, string>) => ({
      name,
      help,
      type: "counter" as const,
      value,
      labels: { ...labels, listener },
    });
    const refused = "Connections refused with a 503 at a connection cap";
    const closed = "Connections closed by the server for a timeout or to free descriptors";
    return [
      {
        name: "postern_connections_open",
        help: "Client connections held now",
        type: "gauge",
        value: this.open,
        labels: { listener },
      },
      counter("postern_connections_refused_total", refused, this.refusedPerAddress, { cap: "address" }),
      counter("postern_connections_refused_total", refused, this.refusedOverall, { cap: "overall" }),
      counter("postern_connections_closed_total", closed, this.headerTimeouts, { reason: "header_timeout" }),
      counter("postern_connections_closed_total", closed, this.idleTimeouts, { reason: "idle_timeout" }),
      counter("postern_connections_closed_total", closed, this.shed, { reason: "shed" }),
      counter("postern_accept_errors_total", "Failed accepts (EMFILE, ENFILE, …)", this.acceptErrors),
    ];
  }
}
