/**
 * The bytes of the latest uploads, by content hash, until an import takes them: a client uploads a
 * message and imports it a moment later (RFC 8621 §4.8), and reading the 10 KB back from SQLite (its
 * overflow pages, and a copy into a new buffer) was a twentieth of the main thread's time under the
 * import bench. Blobs are addressed by their BLAKE3 hash and never change, so these bytes are the
 * stored blob's whatever happened since; who may read the upload is still asked of the database
 * each time (store/blobs.ts `uploadBlob`). Bounded in bytes, the oldest dropped first; a miss reads
 * the database as before.
 */

/** Bytes held at most, and the largest upload held. */
export const RECENT_UPLOAD_LIMITS = { totalBytes: 16 * 1024 * 1024, uploadBytes: 1024 * 1024 } as const;

/** Recent upload contents by hash; see the module comment. */
export class RecentUploads {
  readonly #byHash = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(private readonly limits: { totalBytes: number; uploadBytes: number } = RECENT_UPLOAD_LIMITS) {}

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Keeps the content of a committed upload (unless it is larger than an upload held may be). */
  add(hash: Uint8Array, data: Uint8Array): void {
    if (data.length > this.limits.uploadBytes) return;
    const key = keyOf(hash);
    this.#drop(key);
    this.#byHash.set(key, data);
    this.#bytes += data.length;
    for (const [oldest, bytes] of this.#byHash) {
      if (this.#bytes <= this.limits.totalBytes) break;
      this.#byHash.delete(oldest);
      this.#bytes -= bytes.length;
    }
  }

  /** The content of `hash` if held. */
  get(hash: Uint8Array): Uint8Array | undefined {
    return this.#byHash.get(keyOf(hash));
  }

  /** Stops holding the content of `hash` (an upload is imported once, as a rule). */
  delete(hash: Uint8Array): void {
    this.#drop(keyOf(hash));
  }

  #drop(key: string): void {
    const data = this.#byHash.get(key);
    if (data === undefined) return;
    this.#byHash.delete(key);
    this.#bytes -= data.length;
  }
}

/** A hash as a Map key: a character per byte. */
function keyOf(hash: Uint8Array): string {
  return String.fromCharCode(...hash);
}
