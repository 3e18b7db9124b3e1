/** The only module with SQL: a connection, its migrations and the repositories over it. */
import { DEFAULT_BUSY_TIMEOUT_MS } from "../model/background.ts";
import { type ConnectionOptions, openConnection } from "./connection.ts";
import { Db } from "./db.ts";
import { ReadPool } from "./read_pool.ts";
import { writersLockPathOf } from "./writers_lock.ts";
import { holdSharedLock } from "./data_lock.ts";
import { type AccountRepository, sqliteAccounts } from "./accounts.ts";
import { type AclRepository, sqliteAcl } from "./acl.ts";
import { type ActivityLog, sqliteActivity } from "./activity.ts";
import { type LoginThrottleStore, sqliteLoginThrottle } from "./login_throttle.ts";
import { type BlobRepository, sqliteBlobs } from "./blobs.ts";
import { type ChangeLog, sqliteChanges } from "./changes.ts";
import { type CredentialRepository, sqliteCredentials } from "./credentials.ts";
import { type DomainRepository, sqliteDomains } from "./domains.ts";
import { type IdSequences, sqliteIdSequences } from "./id_sequences.ts";
import { type EmailRepository, sqliteEmails } from "./emails.ts";
import { type SearchRebuildRepository, sqliteSearchRebuild } from "./search_rebuild.ts";
import { type SearchIndexHooks, type SearchIndexRepository, sqliteSearchIndex } from "./search_index.ts";
import { type ImapRepository, sqliteImap } from "./imap.ts";
import { type IntegrityChecker, sqliteIntegrity } from "./integrity.ts";
import { type InvalidationLog, sqliteInvalidations } from "./invalidations.ts";
import { type MailboxRepository, sqliteMailboxes } from "./mailboxes.ts";
import { type OAuthRepository, sqliteOAuth } from "./oauth.ts";
import { SnapshotReads } from "./snapshot_reads.ts";
import { type ServerRegistry, sqliteServers } from "./servers.ts";
import { type CertificateRepository, sqliteCertificates } from "./certificates.ts";
import { type DkimKeyRepository, sqliteDkimKeys } from "./dkim_keys.ts";
import { type MtaStsRepository, sqliteMtaSts } from "./mta_sts.ts";
import { type IdentityRepository, sqliteIdentities } from "./identities.ts";
import { sqliteSubmissions, type SubmissionRepository } from "./submissions.ts";
import { type QueueRepository, sqliteQueue } from "./queue.ts";
import { sqliteVacation, type VacationRepository } from "./vacation.ts";
import { type PushSubscriptionRepository, sqlitePushSubscriptions } from "./push_subscriptions.ts";
import { type SettingsRepository, sqliteSettings } from "./settings.ts";
import { type ShareNotificationRepository, sqliteShareNotifications } from "./share_notifications.ts";

export type { AccountFilter, AccountRecord, AccountRepository, AddressRecord } from "./accounts.ts";
export type { AclRepository } from "./acl.ts";
export type { ActivityLog, StoreCounts } from "./activity.ts";
export type { FailureRule, LoginThrottleStore, ThrottleEntry } from "./login_throttle.ts";
export type { BlobRepository, NewUpload, StoredBlob } from "./blobs.ts";
export type { AccountChange, ChangeLog } from "./changes.ts";
export type { RebuildClaim, SearchRebuildRepository } from "./search_rebuild.ts";
export type { ConnectionOptions, SynchronousMode } from "./connection.ts";
export type { CredentialRepository } from "./credentials.ts";
export type { DomainRepository } from "./domains.ts";
export type { IdSequences, SequencedTable } from "./id_sequences.ts";
export type { EmailRecord, EmailRepository, MailboxCounts, NewEmail } from "./emails.ts";
export type { SearchText } from "./search_rebuild.ts";
export type {
  IndexProgress,
  SearchIndexHooks,
  SearchIndexRepository,
  SearchIndexState,
  UnindexedEmail,
} from "./search_index.ts";
export type {
  ImapMailboxState,
  ImapMessageFactsRow,
  ImapMessageRow,
  ImapRepository,
  ImapSortRow,
  ImapViewColumns,
  ImapViewRead,
  KeywordChange,
  UidRanges,
} from "./imap.ts";
export { HEADER_MATCH_FUNCTION } from "./email_query.ts";
export type { EmailCondition, EmailFilter, EmailQuery, EmailQueryResult, EmailSort } from "./email_query.ts";
export type { DanglingRow, IntegrityChecker, IntegrityReport } from "./integrity.ts";
export type { InvalidationLog } from "./invalidations.ts";
export type { MailboxRepository } from "./mailboxes.ts";
export type { OAuthRepository } from "./oauth.ts";
export { SERVER_HEARTBEAT_MS } from "./servers.ts";
export { checkDatabaseFile, copyDatabase, type DatabaseCopy, installDatabase, syncFile } from "./backup.ts";
export {
  copyStamp,
  keepBeforeRestore,
  keepFileBeforeRestore,
  KEPT_COPIES,
  pruneCopies,
} from "./backup_files.ts";
export { storedSchemaVersion } from "./connection.ts";
export { type Checkpointer, startCheckpointer } from "./checkpointer.ts";
export { newThreadLockBuffer, releaseDeadHolder } from "./thread_lock.ts";
export { EMBEDDED_READ_WORKER_KEY } from "./read_pool.ts";
export { EMBEDDED_INTEGRITY_WORKER_KEY, type StartupCheck, startupCheck } from "./startup_check.ts";
export { type DataLock, lockPathOf, tryExclusiveLock } from "./data_lock.ts";
export type { IdentityRecord, IdentityRepository } from "./identities.ts";
export type {
  DeliveryStatus,
  EnvelopeAddress,
  SubmissionRecord,
  SubmissionRepository,
} from "./submissions.ts";
export { ACTIVE_QUEUE_STATES, domainOf } from "./queue.ts";
export type {
  DueDelivery,
  NewQueuedMessage,
  QueuedMessageRecord,
  QueuedRecipientRecord,
  QueueFilter,
  QueueKind,
  QueueRecipientState,
  QueueRepository,
  QueueResult,
  QueueStats,
} from "./queue.ts";
export type { ServerRecord, ServerRegistry } from "./servers.ts";
export type { CertificateRecord, CertificateRepository, IssuedCertificate } from "./certificates.ts";
export type { DkimAlgorithm, DkimKeyRecord, DkimKeyRepository, NewDkimKey } from "./dkim_keys.ts";
export type { CachedMtaStsPolicy, MtaStsRepository, TlsOutcome, TlsOutcomeCount } from "./mta_sts.ts";
export type { VacationRecord, VacationRepository } from "./vacation.ts";
export type { PushSubscriptionRecord, PushSubscriptionRepository } from "./push_subscriptions.ts";
export type { SettingsRepository } from "./settings.ts";
export type {
  ShareNotificationAuthor,
  ShareNotificationRecord,
  ShareNotificationRepository,
} from "./share_notifications.ts";

/** Every repository over one database. */
export interface Store {
  readonly path: string;
  readonly domains: DomainRepository;
  readonly accounts: AccountRepository;
  readonly credentials: CredentialRepository;
  readonly acl: AclRepository;
  readonly settings: SettingsRepository;
  /** AUTOINCREMENT counters, for snapshots that keep their ids. */
  readonly idSequences: IdSequences;
  readonly invalidations: InvalidationLog;
  readonly changes: ChangeLog;
  readonly oauth: OAuthRepository;
  readonly mailboxes: MailboxRepository;
  readonly shareNotifications: ShareNotificationRepository;
  readonly integrity: IntegrityChecker;
  readonly activity: ActivityLog;
  /** Failed-login counts every process shares (auth/shared_rate_limiter.ts). */
  readonly loginThrottle: LoginThrottleStore;
  readonly blobs: BlobRepository;
  readonly emails: EmailRepository;
  /** The rebuild of the full-text index from the messages (store/search_rebuild.ts). */
  readonly searchRebuild: SearchRebuildRepository;
  /** The full-text index's watermark and batches (store/search_index.ts). */
  readonly searchIndex: SearchIndexRepository;
  /**
   * Who fills the full-text index: told of each commit that stored emails, asked to catch up before a
   * full-text read (the mail layer's indexer; until it is set, nobody: nothing is indexed).
   */
  indexWith(hooks: SearchIndexHooks): void;
  /** IMAP's view of mailboxes: UIDs, MODSEQ, the expunge log (migrations/041_imap.ts). */
  readonly imap: ImapRepository;
  readonly servers: ServerRegistry;
  readonly identities: IdentityRepository;
  readonly submissions: SubmissionRepository;
  /** The outbound queue (migrations/038_queue.ts). */
  readonly queue: QueueRepository;
  readonly vacation: VacationRepository;
  readonly pushSubscriptions: PushSubscriptionRepository;
  readonly certificates: CertificateRepository;
  readonly dkimKeys: DkimKeyRepository;
  /** Recipient domains' MTA-STS policies and outbound TLS outcome counts. */
  readonly mtaSts: MtaStsRepository;
  /**
   * Makes a deterministic function of the services callable from SQL (e.g. matching a message's
   * headers with the MIME parser, which the store does not have).
   */
  defineFunction(name: string, fn: (...args: never[]) => number | string | null): void;
  /** The read workers' counts (jobs answered, workers replaced); undefined without workers. */
  readonly readWorkers:
    | { readonly size: number; readonly jobs: number; readonly replaced: number }
    | undefined;
  /** Runs `body` atomically; it must await only store calls. Only calls made inside `body` join it. */
  transaction<T>(body: () => Promise<T> | T): Promise<T>;
  /** Size of the database file in bytes (pages × page size). */
  sizeBytes(): number;
  close(): void;
  /**
   * Test seam: raw SQL on the connection, for tests that must create states the repositories refuse
   * to (dangling rows with foreign keys off). Never used by production code.
   */
  unsafeExec(sql: string): void;
}

/** Options of a store: its connection's, and its read workers. */
export interface StoreOptions extends ConnectionOptions {
  /**
   * Worker threads that run Email/query and the rows of large Email/gets on read-only connections of
   * their own (read_pool.ts); 0 or absent: every query on the main connection. A database only in
   * memory has none.
   */
  readWorkers?: number;
  /** Transactions take turns with other processes' through a lock file (store/writers_lock.ts). */
  writersLock?: boolean;
  /**
   * Without `writersLock`: transactions take turns with another thread of this process writing the same
   * file (the full-text indexer's) through this buffer (store/thread_lock.ts).
   */
  threadLock?: SharedArrayBuffer;
}

/** Who holds the threads' lock (store/thread_lock.ts): the store's connection, the indexer's. */
export const STORE_THREAD = 1;
export const INDEXER_THREAD = 2;

/**
 * The full-text index's repository on a connection of its own to the database file at `path` (already
 * migrated by the process's store), for the indexer's worker thread (mail/search_index_worker.ts).
 * `writersLock` (or `threadLock`, in one process): its transactions take turns with the store's
 * through the lock file (or the threads' lock), so the store's never wait in SQLite's busy handler,
 * which sleeps on the event loop.
 */
export function openSearchIndex(
  path: string,
  options: Pick<ConnectionOptions, "busyTimeoutMs" | "synchronous"> & {
    writersLock?: boolean;
    threadLock?: SharedArrayBuffer;
  } = {},
): { searchIndex: SearchIndexRepository; close(): void } {
  const db = new Db(
    openConnection(path, { busyTimeoutMs: options.busyTimeoutMs, synchronous: options.synchronous }),
    options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    {
      writersLock: options.writersLock ? writersLockPathOf(path) : undefined,
      threadLock: options.threadLock && { cells: new Int32Array(options.threadLock), holder: INDEXER_THREAD },
    },
  );
  return { searchIndex: sqliteSearchIndex(db), close: () => db.close() };
}

/** Opens the store at `path` (":memory:" for tests), migrating it to the current schema. */
export function openStore(path: string, options: StoreOptions = {}): Store {
  let lock = path === ":memory:" ? undefined : holdSharedLock(path);
  let connection;
  try {
    connection = openConnection(path, options);
  } catch (error) {
    lock?.close();
    throw error;
  }
  const db = new Db(connection, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS, {
    writersLock: options.writersLock && path !== ":memory:" ? writersLockPathOf(path) : undefined,
    threadLock: options.threadLock && { cells: new Int32Array(options.threadLock), holder: STORE_THREAD },
  });
  const invalidations = sqliteInvalidations(db, path);
  const snapshots = path === ":memory:"
    ? undefined
    : new SnapshotReads(path, () => invalidations.changeSignal(), options.busyTimeoutMs);
  // Started once the schema is current: the workers only read it.
  const readers = path !== ":memory:" && (options.readWorkers ?? 0) > 0
    ? new ReadPool(path, { size: options.readWorkers! })
    : undefined;
  let indexer: SearchIndexHooks = { stored() {}, caughtUp: () => Promise.resolve() };
  const search: SearchIndexHooks = { stored: () => indexer.stored(), caughtUp: () => indexer.caughtUp() };
  return {
    path,
    domains: sqliteDomains(db, () => invalidations.changeSignal()),
    accounts: sqliteAccounts(db),
    credentials: sqliteCredentials(db),
    acl: sqliteAcl(db),
    settings: sqliteSettings(db),
    idSequences: sqliteIdSequences(db),
    invalidations,
    changes: sqliteChanges(db),
    oauth: sqliteOAuth(db, snapshots),
    mailboxes: sqliteMailboxes(db, () => invalidations.changeSignal()),
    shareNotifications: sqliteShareNotifications(db),
    integrity: sqliteIntegrity(db),
    activity: sqliteActivity(db),
    loginThrottle: sqliteLoginThrottle(db),
    blobs: sqliteBlobs(db),
    emails: sqliteEmails(db, { readers, search }),
    searchRebuild: sqliteSearchRebuild(db),
    searchIndex: sqliteSearchIndex(db),
    indexWith(hooks) {
      indexer = hooks;
    },
    imap: sqliteImap(db, () => invalidations.changeSignal()),
    servers: sqliteServers(db),
    identities: sqliteIdentities(db),
    submissions: sqliteSubmissions(db),
    queue: sqliteQueue(db),
    vacation: sqliteVacation(db, () => invalidations.changeSignal()),
    pushSubscriptions: sqlitePushSubscriptions(db),
    certificates: sqliteCertificates(db),
    dkimKeys: sqliteDkimKeys(db),
    mtaSts: sqliteMtaSts(db),
    get readWorkers() {
      return readers && { size: readers.size, ...readers.stats };
    },
    transaction: (body) => db.transaction(body),
    defineFunction: (name, fn) => db.raw.function(name, { deterministic: true }, fn as never),
    sizeBytes() {
      const count = db.get<{ page_count: number }>("PRAGMA page_count")?.page_count ?? 0;
      const size = db.get<{ page_size: number }>("PRAGMA page_size")?.page_size ?? 0;
      return Number(count) * Number(size);
    },
    close() {
      readers?.close();
      // The connections first: closing the signal's descriptor releases this process's locks on -shm.
      snapshots?.close();
      db.close();
      invalidations.close();
      lock?.close();
      lock = undefined;
    },
    unsafeExec: (sql) => db.raw.exec(sql),
  };
}
