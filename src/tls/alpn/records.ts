/**
 * TLS records (RFC 8446 §5) for the ACME TLS-ALPN-01 answer: reading the client's first record with
 * a size bound and a deadline, framing handshake messages, protecting them with AES-128-GCM
 * (WebCrypto), and alerts.
 */
import type { TrafficKeys } from "./key_schedule.ts";

/** Record content types. */
export const CONTENT = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 } as const;

/** Largest plaintext record (RFC 8446 §5.1): 2^14. */
export const MAX_RECORD = 16_384;

/** The client's first bytes: all of them (to forward) and, when they are a handshake record, its body. */
export interface FirstRecord {
  bytes: Uint8Array;
  /** The record's body when it is a complete handshake record within {@link MAX_RECORD}. */
  handshake: Uint8Array | undefined;
}

/**
 * Reads the first record from `conn`, at most 5 + {@link MAX_RECORD} bytes; stops early (handshake
 * undefined) when the first byte shows something other than a handshake record. Null when the
 * client closed first or `signal` aborted.
 */
export async function readFirstRecord(conn: Deno.Conn, signal: AbortSignal): Promise<FirstRecord | null> {
  const buffer = new Uint8Array(5 + MAX_RECORD);
  let filled = 0;
  const readAtLeast = async (count: number): Promise<boolean> => {
    while (filled < count) {
      if (signal.aborted) return false;
      const n = await conn.read(buffer.subarray(filled)).catch(() => null);
      if (n === null) return false;
      filled += n;
    }
    return true;
  };
  if (!await readAtLeast(1)) return null;
  if (buffer[0] !== CONTENT.handshake) return { bytes: buffer.slice(0, filled), handshake: undefined };
  if (!await readAtLeast(5)) return null;
  const length = buffer[3] * 256 + buffer[4];
  if (length > MAX_RECORD) return { bytes: buffer.slice(0, filled), handshake: undefined };
  if (!await readAtLeast(5 + length)) return null;
  const bytes = buffer.slice(0, filled);
  return { bytes, handshake: bytes.subarray(5, 5 + length) };
}

/** A handshake message: type, 24-bit length, body. */
export function handshakeMessage(type: number, body: Uint8Array): Uint8Array {
  return concat([type, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff], body);
}

/** A plaintext record of `type`. */
export function record(type: number, body: Uint8Array): Uint8Array {
  return concat([type, 3, 3, body.length >> 8, body.length & 0xff], body);
}

/** A fatal alert record (plaintext: sent before or instead of protection). */
export function alertRecord(code: number): Uint8Array {
  return record(CONTENT.alert, Uint8Array.from([2, code]));
}

/** A protected record holding `content` of `type` (RFC 8446 §5.2), sequence number `sequence`. */
export async function protectedRecord(
  keys: TrafficKeys,
  sequence: number,
  type: number,
  content: Uint8Array,
): Promise<Uint8Array> {
  const inner = concat(content, [type]);
  const header = Uint8Array.from([
    CONTENT.applicationData,
    3,
    3,
    (inner.length + 16) >> 8,
    (inner.length + 16) & 0xff,
  ]);
  const nonce = keys.iv.slice();
  for (let i = 0; i < 8; i++) nonce[11 - i] ^= Number((BigInt(sequence) >> BigInt(8 * i)) & 0xffn);
  const key = await crypto.subtle.importKey("raw", keys.key as Uint8Array<ArrayBuffer>, "AES-GCM", false, [
    "encrypt",
  ]);
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: header },
    key,
    inner,
  );
  return concat(header, new Uint8Array(sealed));
}

/** Bytes and byte lists, joined. */
export function concat(...parts: (Uint8Array | number[])[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
