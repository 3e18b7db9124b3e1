/**
 * Blobs (RFC 8620 §6): uploads into an account and downloads from it, for the account's owner and
 * for those it shares mailboxes with (who may write there). Content is addressed by its BLAKE3 hash,
 * so the same bytes are stored once however often they are uploaded. An upload is readable by who
 * made it and by the account's owner; a blob id of another account, or another sharer's upload, is
 * not found, never read.
 */
import type { AccountService } from "../directory/mod.ts";
import { ForbiddenError, NotFoundError, QuotaError, rightBit, type Store } from "./deps.ts";
import { decodeTransfer, findPart } from "./mime/mod.ts";
import { parseBody } from "./parse_pool.ts";
import type { MailboxService } from "./mailboxes.ts";
import { GroupCommit } from "./group_commit.ts";
import type { NewUpload, StoredBlob } from "../store/mod.ts";

/** How long an upload is kept for a client to use it (RFC 8620 §6.1: at least an hour). */
export const UPLOAD_TTL_MS = 60 * 60 * 1000;

/** What a successful upload answers (RFC 8620 §6.1). */
export interface UploadResult {
  accountId: number;
  blobId: string;
  type: string;
  size: number;
}

const BLOB_ID = /^G[A-Za-z0-9_-]{43}$/;
const READ = rightBit("mayReadItems");

/** Uploads, downloads and the collection of unreferenced blobs. */
export class BlobService {
  /**
   * Uploads that arrive together (a client uploads on several connections at once, up to the
   * session's maxConcurrentUpload) share one transaction and its commit; each is answered after it.
   */
  readonly #uploads = new GroupCommit<NewUpload, StoredBlob>((uploads) =>
    this.store.blobs.putUploads(uploads)
  );

  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly mailboxes: MailboxService,
    /** BLAKE3-256 of the content. */
    private readonly hash: (bytes: Uint8Array) => Uint8Array,
  ) {}

  /** The content hash that addresses `data` (BLAKE3-256). */
  hashOf(data: Uint8Array): Uint8Array {
    return this.hash(data);
  }

  /** Stores `data` as an upload into `accountId`; the viewer must be able to write there. */
  async upload(
    viewerId: number,
    accountId: number,
    content: { data: Uint8Array; type: string },
  ): Promise<UploadResult> {
    const access = await this.mailboxes.canAccess(viewerId, accountId);
    if (!access) throw new NotFoundError("Account", String(accountId));
    if (access.readOnly) {
      throw new ForbiddenError("This account is shared with you read-only: nothing can be uploaded to it");
    }
    const now = Date.now();
    const hash = this.hash(content.data);
    const limit = (await this.accounts.get(accountId))?.quotas.maxDiskQuota;
    if (limit !== undefined && !(await this.store.blobs.isLinked(accountId, hash))) {
      const used = await this.store.blobs.usedBytes(accountId);
      if (used + content.data.length > limit) {
        throw new QuotaError(
          `The upload of ${content.data.length} bytes would pass the account's storage limit ` +
            `(maxDiskQuota ${limit} bytes, ${used} used)`,
        );
      }
    }
    const blob = await this.#uploads.submit({
      accountId,
      uploaderId: viewerId,
      hash,
      data: content.data,
      type: content.type,
      now,
      expiresAt: now + UPLOAD_TTL_MS,
    });
    return { accountId, blobId: blobId(blob.hash), type: content.type, size: blob.size };
  }

  /**
   * The content of a blob of `accountId` that the viewer may read: an upload it made (or made into
   * its own account), a message in a mailbox it may read, or a part of one (decoded); NotFoundError
   * otherwise.
   */
  async download(viewerId: number, accountId: number, wireBlobId: string): Promise<Uint8Array<ArrayBuffer>> {
    const ref = parseBlobRef(wireBlobId);
    const access = ref && await this.mailboxes.canAccess(viewerId, accountId);
    let data: Uint8Array<ArrayBuffer> | undefined;
    if (ref && access) {
      data = await this.store.blobs.read({ accountId, viewerId }, ref.hash, Date.now()) ??
        await this.readableMessage(viewerId, accountId, ref.hash);
      // A part of a part (an attached message's attachment): each step parses the message above it.
      for (const index of ref.path) {
        if (!data) break;
        const part = findPart(await parseBody(data), String(index));
        data = part ? new Uint8Array(decodeTransfer(data, part).bytes) : undefined;
      }
    }
    if (!data) throw new NotFoundError("Blob", wireBlobId);
    return data;
  }

  /** A message of the account's emails that the viewer may read (mayReadItems on one of its mailboxes). */
  async readableMessage(
    viewerId: number,
    accountId: number,
    hash: Uint8Array,
  ): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const found = await this.store.blobs.readMessage(accountId, hash);
    if (!found) return undefined;
    const rights = await this.mailboxes.rightsIn(viewerId, accountId);
    return found.mailboxIds.some((m) => (rights(m) & READ) !== 0) ? found.data : undefined;
  }

  /** Bytes stored for the account (what its maxDiskQuota counts). */
  usedBytes(accountId: number): Promise<number> {
    return this.store.blobs.usedBytes(accountId);
  }

  /** Drops expired uploads and the blobs nothing links any more. */
  collect(now = Date.now()): Promise<{ uploads: number; blobs: number }> {
    return this.store.blobs.collect(now);
  }
}

/** The wire id of a blob: "G" and its hash in base64url. */
export function blobId(hash: Uint8Array): string {
  return "G" + hash.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** The wire id of one part of a message (itself a blob or a part): the message's id and the part's index. */
export function partBlobId(messageBlobId: string, part: number): string {
  return `${messageBlobId}_${part}`;
}

/**
 * The hash of a wire blob id and the path of parts it names inside that blob (empty for the blob
 * itself; [7, 2] for part 2 of the message in part 7); undefined when it is not one of ours.
 */
export function parseBlobRef(id: string): { hash: Uint8Array; path: number[] } | undefined {
  const hash = parseBlobId(id.slice(0, 44));
  if (!hash) return undefined;
  const rest = id.slice(44);
  if (rest === "") return { hash, path: [] };
  if (!/^(_(0|[1-9]\d{0,5})){1,8}$/.test(rest)) return undefined;
  return { hash, path: rest.slice(1).split("_").map(Number) };
}

/** The hash a wire blob id names, or undefined when it is not one of ours. */
export function parseBlobId(id: string): Uint8Array | undefined {
  if (!BLOB_ID.test(id)) return undefined;
  const hash = Uint8Array.fromBase64(id.slice(1), { alphabet: "base64url", lastChunkHandling: "loose" });
  // One id per blob: spare bits set in the last character make another spelling, refused.
  return blobId(hash) === id ? hash : undefined;
}
