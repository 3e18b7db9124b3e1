/**
 * The ClientHello (RFC 8446 §4.1.2) as far as an ACME TLS-ALPN-01 answer needs it: session id,
 * cipher suites, and the extensions server_name (RFC 6066 §3), ALPN (RFC 7301), supported_versions,
 * key_share and signature_algorithms. Strict: any length that does not add up is a {@link TlsAlert}
 * (decode_error), never an exception of another kind.
 */

/** A TLS alert to send before closing (RFC 8446 §6.2). */
export class TlsAlert extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** Alert descriptions used here. */
export const ALERT = {
  unexpectedMessage: 10,
  handshakeFailure: 40,
  illegalParameter: 47,
  decodeError: 50,
  protocolVersion: 70,
  unrecognizedName: 112,
  noApplicationProtocol: 120,
} as const;

/** What the ClientHello offers. */
export interface ClientHello {
  sessionId: Uint8Array;
  cipherSuites: number[];
  /** The host_name of server_name, lower case; undefined when absent. */
  serverName: string | undefined;
  alpn: string[];
  versions: number[];
  signatureSchemes: number[];
  /** Named group → key exchange bytes. */
  keyShares: Map<number, Uint8Array>;
}

/** Reads big-endian fields with bounds checks; running past the end is a decode_error. */
class Reader {
  #at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.#at === this.bytes.length;
  }

  take(length: number): Uint8Array {
    if (this.#at + length > this.bytes.length) throw decodeError("a field runs past its end");
    const slice = this.bytes.subarray(this.#at, this.#at + length);
    this.#at += length;
    return slice;
  }

  uint(size: 1 | 2 | 3): number {
    return this.take(size).reduce((value, byte) => value * 256 + byte, 0);
  }

  /** The bytes not read yet. */
  rest(): Uint8Array {
    return this.take(this.bytes.length - this.#at);
  }

  /** A length-prefixed vector, read by its own reader. */
  vector(size: 1 | 2 | 3): Reader {
    return new Reader(this.take(this.uint(size)));
  }

  /** A vector of `width`-byte numbers. */
  numbers(size: 1 | 2, width: 2): number[] {
    const inner = this.vector(size);
    const out: number[] = [];
    while (!inner.done) out.push(inner.uint(width));
    return out;
  }

  end(): void {
    if (!this.done) throw decodeError("trailing bytes");
  }
}

function decodeError(what: string): TlsAlert {
  return new TlsAlert(ALERT.decodeError, `Malformed ClientHello: ${what}`);
}

const EXTENSION = {
  serverName: 0,
  alpn: 16,
  signatureAlgorithms: 13,
  supportedVersions: 43,
  keyShare: 51,
} as const;

/** Parses a ClientHello handshake message (its 4-byte header included). */
export function parseClientHello(message: Uint8Array): ClientHello {
  const outer = new Reader(message);
  if (outer.uint(1) !== 1) {
    throw new TlsAlert(ALERT.unexpectedMessage, "The first handshake message is not a ClientHello");
  }
  const body = outer.vector(3);
  outer.end();
  body.take(2 + 32); // legacy_version, random
  const sessionId = body.vector(1).rest();
  if (sessionId.length > 32) throw decodeError("session id longer than 32 bytes");
  const hello: ClientHello = {
    sessionId,
    cipherSuites: body.numbers(2, 2),
    serverName: undefined,
    alpn: [],
    versions: [],
    signatureSchemes: [],
    keyShares: new Map(),
  };
  body.vector(1); // legacy_compression_methods
  if (body.done) return hello; // no extensions: a TLS 1.2 client
  const extensions = body.vector(2);
  body.end();
  const seen = new Set<number>();
  while (!extensions.done) {
    const type = extensions.uint(2);
    const data = extensions.vector(2);
    if (seen.has(type)) throw new TlsAlert(ALERT.illegalParameter, `ClientHello repeats extension ${type}`);
    seen.add(type);
    readExtension(type, data, hello);
  }
  return hello;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function text(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw decodeError("a name is not UTF-8");
  }
}

function readExtension(type: number, data: Reader, hello: ClientHello): void {
  switch (type) {
    case EXTENSION.serverName: {
      const list = data.vector(2);
      while (!list.done) {
        const nameType = list.uint(1);
        const name = list.vector(2).rest();
        if (nameType === 0) hello.serverName = text(name).toLowerCase();
      }
      break;
    }
    case EXTENSION.alpn: {
      const list = data.vector(2);
      while (!list.done) hello.alpn.push(text(list.vector(1).rest()));
      break;
    }
    case EXTENSION.supportedVersions:
      hello.versions = data.numbers(1, 2);
      break;
    case EXTENSION.signatureAlgorithms:
      hello.signatureSchemes = data.numbers(2, 2);
      break;
    case EXTENSION.keyShare: {
      const list = data.vector(2);
      while (!list.done) {
        const group = list.uint(2);
        hello.keyShares.set(group, list.vector(2).rest());
      }
      break;
    }
    default:
      return;
  }
  data.end();
}
