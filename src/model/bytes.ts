/** Byte helpers shared by the layers. */

/** The parts one after another, in a new buffer. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
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
