/**
 * Answers ACME TLS-ALPN-01 validation (RFC 8737) on the HTTPS port, in front of Deno's TLS.
 *
 * Why by hand: RFC 8737 §3 requires the acmeIdentifier extension to be critical, and Deno 2.9.6's
 * TLS (rustls/webpki, under Deno.listenTls, Deno.serve and node:tls alike) refuses to load such a
 * certificate ("UnsupportedCriticalExtension"). No well-kept TLS 1.3 server exists in JS to use
 * instead (node-forge stops at TLS 1.1). The validation needs only the server's first flight: the
 * CA checks the certificate and closes (§3), so this answers a ClientHello that offers exactly
 * "acme-tls/1" (§4) for a name with a pending challenge with ServerHello, EncryptedExtensions,
 * Certificate, CertificateVerify and Finished (RFC 8446), then reads the client's flight and closes.
 * Everything else goes on to Deno's TLS unchanged, the bytes read included.
 *
 * Read in order: {@link acmeAlpnResponder} (read, decide, answer), then {@link serverFlight}.
 * Supported: TLS_AES_128_GCM_SHA256, x25519 or secp256r1, ecdsa_secp256r1_sha256. A client with no
 * usable key share gets handshake_failure rather than a HelloRetryRequest (Go's and OpenSSL's
 * clients, those of the CAs, send x25519).
 */
import { type AlpnCertificate, alpnCertificate, derSignature } from "./alpn_certificate.ts";
import { ALERT, type ClientHello, parseClientHello, TlsAlert } from "./client_hello.ts";
import { finishedData, handshakeKeys, transcriptHash } from "./key_schedule.ts";
import { GROUPS, keyAgreement } from "./key_share.ts";
import {
  alertRecord,
  concat,
  CONTENT,
  handshakeMessage,
  protectedRecord,
  readFirstRecord,
  record,
} from "./records.ts";

/** The ALPN protocol of the validation (RFC 8737 §6.2). */
export const ACME_TLS_ALPN = "acme-tls/1";

/** The key authorization of a name's pending TLS-ALPN-01 challenge, if any. */
export type PendingAlpnChallenge = (name: string) => Promise<string | undefined>;

/**
 * Takes a new connection first: null when it answered (or refused) it and the caller should close;
 * otherwise the bytes it read, to forward before the rest.
 */
export type ConnectionIntercept = (conn: Deno.Conn) => Promise<Uint8Array | null>;

const TLS13 = 0x0304;
const AES_128_GCM_SHA256 = 0x1301;
const ECDSA_P256_SHA256 = 0x0403;
/** After our Finished, the client's flight is read (and dropped) up to this many bytes. */
const DRAIN_BYTES = 64 * 1024;
const CERTIFICATE_CACHE = 8;

/**
 * The interceptor answering TLS-ALPN-01 for names with a pending challenge; `timeoutMs` bounds the
 * wait for the first record and the whole answer (the HTTPS header timeout).
 */
export function acmeAlpnResponder(
  pending: PendingAlpnChallenge,
  options: {
    timeoutMs?: number;
    /** Answers are logged at info, refusals (any client can ask) at debug. */
    log?: {
      info(message: string, properties: Record<string, unknown>): void;
      debug(message: string, properties: Record<string, unknown>): void;
    };
  } = {},
): ConnectionIntercept {
  const timeoutMs = options.timeoutMs ?? 10_000;
  // The CA connects several times (from several vantage points) with the same challenge.
  const certificates = new Map<string, Promise<AlpnCertificate>>();
  const certificateFor = (name: string, keyAuthorization: string) => {
    const key = `${name}\n${keyAuthorization}`;
    let made = certificates.get(key);
    if (made === undefined) {
      if (certificates.size >= CERTIFICATE_CACHE) certificates.clear();
      made = alpnCertificate(name, keyAuthorization);
      certificates.set(key, made);
    }
    return made;
  };
  return async (conn) => {
    const deadline = new AbortController();
    // A read waits until the client sends or the connection closes: the deadline closes it.
    const timer = setTimeout(() => {
      deadline.abort();
      close(conn);
    }, timeoutMs);
    try {
      // 1. The first record; anything but a complete handshake record goes on unchanged.
      const first = await readFirstRecord(conn, deadline.signal);
      if (first === null) return null;
      if (first.handshake === undefined || fragmented(first.handshake)) return first.bytes;
      // 2. A malformed ClientHello is refused here, in TLS's own form.
      let hello: ClientHello;
      try {
        hello = parseClientHello(first.handshake);
      } catch (error) {
        if (!(error instanceof TlsAlert)) throw error;
        await send(conn, alertRecord(error.code));
        return null;
      }
      // 3. Not the ACME validation: Deno's TLS answers.
      if (hello.alpn.length !== 1 || hello.alpn[0] !== ACME_TLS_ALPN) return first.bytes;
      // 4. The validation, for a name with a pending challenge only.
      try {
        const keyAuthorization = hello.serverName === undefined ? undefined : await pending(hello.serverName);
        if (keyAuthorization === undefined) {
          throw new TlsAlert(ALERT.handshakeFailure, "no pending TLS-ALPN-01 challenge for this name");
        }
        const certificate = await certificateFor(hello.serverName!, keyAuthorization);
        await send(conn, await serverFlight(hello, first.handshake, certificate));
        options.log?.info("Answered a TLS-ALPN-01 validation for {name}", { name: hello.serverName });
      } catch (error) {
        options.log?.debug("Refused a TLS-ALPN-01 handshake for {name}: {error}", {
          name: hello.serverName ?? "(no name)",
          error: (error as Error)?.message ?? String(error),
        });
        await send(conn, alertRecord(error instanceof TlsAlert ? error.code : ALERT.handshakeFailure));
        return null;
      }
      // 5. The client checks the certificate, sends its Finished (or an alert) and closes.
      await drain(conn, deadline.signal);
      return null;
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * A ClientHello split over several records (legal, but never the validation's): Deno's TLS reads
 * it. Anything else that is not a ClientHello is refused by the parser.
 */
function fragmented(body: Uint8Array): boolean {
  return body.length >= 4 && body[0] === 1 && 4 + (body[1] << 16 | body[2] << 8 | body[3]) > body.length;
}

/** The server's answer: ServerHello in clear, then EncryptedExtensions..Finished protected. */
export async function serverFlight(
  hello: ClientHello,
  clientHello: Uint8Array,
  certificate: AlpnCertificate,
): Promise<Uint8Array> {
  if (!hello.versions.includes(TLS13)) throw new TlsAlert(ALERT.protocolVersion, "TLS 1.3 is required");
  if (!hello.cipherSuites.includes(AES_128_GCM_SHA256)) {
    throw new TlsAlert(ALERT.handshakeFailure, "TLS_AES_128_GCM_SHA256 is required");
  }
  if (!hello.signatureSchemes.includes(ECDSA_P256_SHA256)) {
    throw new TlsAlert(ALERT.handshakeFailure, "ecdsa_secp256r1_sha256 is required");
  }
  const group = [GROUPS.x25519, GROUPS.secp256r1].find((group) => hello.keyShares.has(group));
  if (group === undefined) throw new TlsAlert(ALERT.handshakeFailure, "no x25519 or secp256r1 key share");
  const exchange = await keyAgreement(group, hello.keyShares.get(group)!).catch(() => {
    throw new TlsAlert(ALERT.illegalParameter, "invalid key share");
  });
  const u16 = (n: number) => [n >> 8, n & 0xff];
  const serverHello = handshakeMessage(
    2,
    concat(
      u16(0x0303),
      crypto.getRandomValues(new Uint8Array(32)),
      [hello.sessionId.length],
      hello.sessionId,
      u16(AES_128_GCM_SHA256),
      [0],
      u16(6 + 8 + exchange.share.length),
      u16(43),
      u16(2),
      u16(TLS13),
      u16(51),
      u16(4 + exchange.share.length),
      u16(group),
      u16(exchange.share.length),
      exchange.share,
    ),
  );
  const keys = handshakeKeys(exchange.shared, transcriptHash(clientHello, serverHello));
  const protocol = new TextEncoder().encode(ACME_TLS_ALPN);
  const extensions = handshakeMessage(
    8,
    concat(u16(7 + protocol.length), u16(16), u16(3 + protocol.length), u16(1 + protocol.length), [
      protocol.length,
    ], protocol),
  );
  const der = certificate.der;
  const entries = concat([der.length >> 16, (der.length >> 8) & 0xff, der.length & 0xff], der, u16(0));
  const certificateMessage = handshakeMessage(
    11,
    concat([0, entries.length >> 16, (entries.length >> 8) & 0xff, entries.length & 0xff], entries),
  );
  // RFC 8446 §4.4.3: 64 spaces, the context string, a zero byte, the transcript hash.
  const signed = concat(
    new Uint8Array(64).fill(0x20),
    new TextEncoder().encode("TLS 1.3, server CertificateVerify"),
    [0],
    transcriptHash(clientHello, serverHello, extensions, certificateMessage),
  );
  const raw = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, certificate.privateKey, signed),
  );
  const signature = derSignature(raw);
  const verify = handshakeMessage(15, concat(u16(ECDSA_P256_SHA256), u16(signature.length), signature));
  const finished = handshakeMessage(
    20,
    finishedData(
      keys.server.secret,
      transcriptHash(clientHello, serverHello, extensions, certificateMessage, verify),
    ),
  );
  const flight = concat(extensions, certificateMessage, verify, finished);
  return concat(
    record(CONTENT.handshake, serverHello),
    // Middlebox compatibility (RFC 8446 §D.4): a client that sent a session id expects this.
    hello.sessionId.length > 0 ? record(CONTENT.changeCipherSpec, Uint8Array.from([1])) : [],
    await protectedRecord(keys.server, 0, CONTENT.handshake, flight),
  );
}

async function send(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  try {
    for (let written = 0; written < bytes.length;) written += await conn.write(bytes.subarray(written));
  } catch { /* the client went away */ }
}

async function drain(conn: Deno.Conn, signal: AbortSignal): Promise<void> {
  const sink = new Uint8Array(4096);
  let total = 0;
  while (!signal.aborted && total < DRAIN_BYTES) {
    const n = await conn.read(sink).catch(() => null);
    if (n === null) return;
    total += n;
  }
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* closed */ }
}
