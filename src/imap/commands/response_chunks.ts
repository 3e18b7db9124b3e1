/**
 * Untagged responses gathered into writes of about 64 KiB, each waiting until the socket took it
 * (SessionIo.drained): a long answer (FETCH 1:*, STORE on a whole mailbox) goes out as it is made,
 * in few TLS records, and never sits in memory whole.
 */
import { concatBytes } from "../../model/bytes.ts";
import type { ImapSession } from "../session.ts";

/** Responses are gathered up to this many bytes per write. */
const WRITE_CHUNK = 64 * 1024;

/** Responses gathered into writes of about WRITE_CHUNK bytes, each waiting for the socket to take it. */
export class ResponseChunks {
  #parts: Uint8Array[] = [];
  #size = 0;
  constructor(private readonly session: ImapSession) {}

  /** Adds one response; writes when WRITE_CHUNK bytes are gathered. */
  async add(bytes: Uint8Array): Promise<void> {
    this.#parts.push(bytes);
    this.#size += bytes.length;
    if (this.#size >= WRITE_CHUNK) await this.flush();
  }

  /** Writes what is gathered and waits until the socket took it. */
  async flush(): Promise<void> {
    if (this.#parts.length === 0) return;
    const parts = this.#parts;
    this.#parts = [];
    this.#size = 0;
    this.session.io.write(parts.length === 1 ? parts[0] : concatBytes(...parts));
    await this.session.io.drained?.();
  }
}
