/** Byte helpers shared by the layers. */

/** The parts one after another, in a new buffer. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return joinBytes(parts);
}

/** A list of parts (chunks read from a stream, say: any number) one after another, in a new buffer. */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Base64url text (padded or not) as bytes, or undefined when it is not base64url. */
export function base64urlBytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return undefined;
  try {
    return Uint8Array.fromBase64(text.replace(/=+$/, ""), {
      alphabet: "base64url",
      lastChunkHandling: "loose",
    });
  } catch {
    return undefined;
  }
}
