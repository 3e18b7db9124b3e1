/**
 * Wires the store and the services once; the server, the CLI in local mode and the TUI all use this,
 * so every surface goes through the same code paths and caches.
 */
import { getLogger } from "@logtape/logtape";
import { FAILED_LOGIN_MESSAGE, loginFailure } from "./model/login_failure.ts";
import { SettingsHasher } from "./settings_hasher.ts";
import { GrantService } from "./acl/mod.ts";
import {
  Authenticator,
  type HasherTrialOptions,
  isArgon2idPhc,
  keyedHasher,
  type LoginThrottle,
  RateLimiter,
  SharedRateLimiter,
} from "./auth/mod.ts";
import { DirectoryCaches } from "./cache/mod.ts";
import {
  AccessKeyService,
  AccountService,
  ChangeService,
  CREDENTIAL_KEY_SETTING,
  describeStoredProblem,
  DomainService,
  KeyedSecrets,
  ObjectService,
  type PasswordHashing,
  SettingsService,
} from "./directory/mod.ts";
import { UnavailableError } from "./model/errors.ts";
import type { AuthenticationSettings } from "./model/objects/mod.ts";
import type { InvalidationEvent } from "./model/types.ts";
import {
  ArcSealer,
  BlobService,
  type BounceComposer,
  type DeliveryMetrics,
  dkimKeyHandler,
  DkimKeyService,
  DkimSigner,
  DsnReceiver,
  EmailService,
  FactsPool,
  Forwarding,
  IdentityService,
  ImapMailboxService,
  InboundDelivery,
  inlineRsaSign,
  LocalDelivery,
  mailboxGrantHandler,
  MailboxService,
  MessageSubmission,
  type OutboundQueue,
  OutboundQueueView,
  PushSubscriptionService,
  type QueueWorker,
  RsaSignPool,
  SearchIndexer,
  SearchRebuild,
  ShareNotificationService,
  Srs,
  SubmissionService,
  VacationService,
} from "./mail/mod.ts";
import { blake3Hash, blobHasher, OAuthProvider, textSealer } from "./oauth/mod.ts";
import type {
  MtaStsCache,
  OutboundTransport,
  PolicyFetchOptions,
  TlsReportRecorder,
} from "./outbound/mod.ts";
import { openOutbound } from "./outbound_services.ts";
import {
  type ConnectionOptions,
  newThreadLockBuffer,
  openStore,
  SERVER_HEARTBEAT_MS,
  type ServerRecord,
  type Store,
  type SynchronousMode,
} from "./store/mod.ts";

/** Everything the surfaces use. */
export interface Services {
  store: Store;
  caches: DirectoryCaches;
  hashing: PasswordHashing;
  /** The failed-login throttle, shared by every process on the database. */
  limiter: LoginThrottle;
  accounts: AccountService;
  domains: DomainService;
  /** Mail arriving by SMTP: recipient checks and one-transaction delivery. */
  inbound: InboundDelivery;
  accessKeys: AccessKeyService;
  /** The credential key and keyed hashes, for snapshots in local mode. */
  keyedSecrets: KeyedSecrets;
  settings: SettingsService;
  grants: GrantService;
  changes: ChangeService;
  objects: ObjectService;
  authenticator: Authenticator;
  /**
   * The authenticator for re-checking the credential an open connection (WebSocket, event stream)
   * was opened with: the same caches and checks, but a credential that stopped working there is a
   * revocation, not a guess, so it neither waits for nor feeds the login throttle.
   */
  connectionAuthenticator: Authenticator;
  oauth: OAuthProvider;
  mailboxes: MailboxService;
  blobs: BlobService;
  emails: EmailService;
  /** Fills a new full-text index from the messages after a migration (server.ts wakes it). */
  searchRebuild: SearchRebuild;
  /** Fills the full-text index after each commit that stored emails (src/mail/search_indexer.ts). */
  searchIndexer: SearchIndexer;
  /** IMAP's view of the mail store: what a selected IMAP mailbox calls (src/mail/imap_mailbox.ts). */
  imapMailboxes: ImapMailboxService;
  identities: IdentityService;
  vacation: VacationService;
  pushSubscriptions: PushSubscriptionService;
  submissions: SubmissionService;
  /** The outbound queue's delivery worker (server.ts wakes it; tests call runDue). */
  queue: QueueWorker;
  /** Puts the server's own mail (vacation replies, reports) in the outbound queue. */
  outboundQueue: OutboundQueue;
  /** DKIM keys of the local domains (made with each domain, rotated by an action). */
  dkimKeys: DkimKeyService;
  /** Messages submitted whole over SMTP, into the EmailSubmission path. */
  messageSubmission: MessageSubmission;
  /** The outbound queue as administrators steer it (x:QueuedMessage, the queue actions). */
  queueView: OutboundQueueView;
  /** Delivery results counted for /metrics; the queue's workers call `record` for each recipient. */
  deliveryMetrics: DeliveryMetrics;
  shareNotifications: ShareNotificationService;
  /** Recipient domains' MTA-STS policies (RFC 8461), cached in the database, for the transport. */
  mtaSts: MtaStsCache;
  /** Where the transport records outbound TLS outcomes (RFC 8460); its samples() go to /metrics. */
  tlsReports: TlsReportRecorder;
  encryptionKey: Uint8Array;
  /** Applies other processes' invalidations; one cheap call, made before each request. */
  sync(): Promise<void> | undefined;
  /** Starts the password-hash workers ahead of the first logins (servers call it at start). */
  prestart(): void;
  /**
   * Warns when the Argon2 settings ask more than this machine can do: more memory than its share
   * for the hash workers, or a hash slower than ARGON2_SLOW_HASH_MS, measured (servers call it at
   * start: the database may come from a bigger machine).
   */
  checkHashCost(): Promise<void>;
  /** Servers running on this database (refreshed within three heartbeats), newest first. */
  runningServers(): Promise<ServerRecord[]>;
  /** Removes invalidation-log rows older than any process can lag (servers call it hourly). */
  pruneInvalidations(): number;
  close(): Promise<void>;
}

/** Options for {@link openServices}. */
export interface ServiceOptions {
  databasePath: string;
  synchronous?: SynchronousMode;
  /** How long a write waits for another process's lock (SQLite busy_timeout, default 5000 ms). */
  busyTimeoutMs?: number;
  encryptionKey: Uint8Array;
  /** See ConnectionOptions in store/connection.ts: copy the database before upgrading its schema. */
  migrationBackup?: ConnectionOptions["migrationBackup"];
  onMigration?: ConnectionOptions["onMigration"];
  /** Hash workers (default: cores, at most 4). */
  hashWorkers?: number;
  /** Read workers for Email/query and large Email/get reads (src/store/read_pool.ts); default none. */
  readWorkers?: number;
  /** Writes take turns with other serving processes' through a lock file (src/store/writers_lock.ts). */
  writersLock?: boolean;
  /**
   * The full-text index is filled by a worker thread of its own (src/mail/search_indexer.ts), for a
   * database file; then writes take the writers' lock too. Default: none, queries index what is missing.
   */
  searchIndexWorker?: boolean;
  /** The environment read at boot (a SecretKey may name a variable); defaults to none. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Where warnings about settings go (a stored value that cannot be used, a slow password hash):
   * the log by default; the CLI prints them.
   */
  warn?: (message: string) => void;
  /** DNS servers for outbound look-ups ("127.0.0.1:5353"); empty or none: the system's. */
  dnsServers?: readonly string[];
  /** How MTA-STS policies are fetched beyond the resolver: tests give their CA and port. */
  policyFetch?: Omit<PolicyFetchOptions, "addresses">;
  /**
   * Delivers queued mail whose route is the recipient domain's MX (relay routes go through the
   * relay transport); none: such mail waits in the queue.
   */
  outboundTransport?: OutboundTransport;
  /** Makes bounces and delay notices (default: a plain-text stand-in, mail/bounce.ts). */
  bounces?: BounceComposer;
  /** This server's mail host name, the Reporting-MTA of its bounces (default: the machine's name). */
  mailHost?: string;
  /** The machine's figures for proving new Argon2 parameters (tests); measured by default. */
  argon2Trial?: Omit<HasherTrialOptions, "workers"> & { slowHashMs?: number };
}

const CREDENTIAL_KEY = CREDENTIAL_KEY_SETTING;
/** Clients remembered per account for the login throttle (the most recently successful). */
const KNOWN_CLIENTS_PER_ACCOUNT = 32;
/** The purpose of the key that seals secret settings (the smarthost password). */
const SETTINGS_SEAL_CONTEXT = "postern 2026-12 settings secret seal";
/** The purpose of the key that seals DKIM private keys. */
const DKIM_SEAL_CONTEXT = "postern 2026-12 dkim private key seal";

/** Opens the database and builds every service over it. */
export async function openServices(options: ServiceOptions): Promise<Services> {
  const indexWorker = options.searchIndexWorker === true && options.databasePath !== ":memory:";
  const threadLock = indexWorker && !options.writersLock ? newThreadLockBuffer() : undefined;
  const store = openStore(options.databasePath, {
    synchronous: options.synchronous,
    busyTimeoutMs: options.busyTimeoutMs,
    migrationBackup: options.migrationBackup,
    onMigration: options.onMigration,
    readWorkers: options.readWorkers,
    writersLock: options.writersLock,
    // The indexer's thread writes the same file: a write of the event loop waits for it without
    // blocking the loop, never asleep in SQLite's busy handler (src/store/thread_lock.ts); with
    // several processes, the lock file serves the threads too (src/store/writers_lock.ts).
    threadLock,
  });
  const searchIndexer = new SearchIndexer(
    store.searchIndex,
    indexWorker
      ? {
        path: options.databasePath,
        busyTimeoutMs: options.busyTimeoutMs,
        synchronous: options.synchronous,
        writersLock: Boolean(options.writersLock),
        threadLock,
      }
      : undefined,
  );
  store.indexWith(searchIndexer);
  const settings = new SettingsService(store, textSealer(options.encryptionKey, SETTINGS_SEAL_CONTEXT));
  // Braces doubled: the message is the log line itself, not a template with placeholders.
  const warn = options.warn ??
    ((message: string) =>
      getLogger(["postern", "settings"]).warn(message.replaceAll("{", "{{").replaceAll("}", "}}")));
  const dataDir = options.databasePath.includes("/")
    ? options.databasePath.replace(/\/[^/]*$/, "") || "/"
    : ".";
  settings.onStoredProblem = (problem) =>
    warn(`${describeStoredProblem(problem, dataDir)}. Until then its default is used`);
  const cacheSettings = await settings.get("Cache");
  let authSettings = await settings.get("Authentication");
  const caches = new DirectoryCaches(cacheSettings, store.invalidations);
  // Settings can change the Argon2 parameters at run time; every user of hashing goes through this.
  const hasher = new SettingsHasher(authSettings, {
    workers: options.hashWorkers,
    trial: options.argon2Trial,
    warn,
  });
  const hashing = hasher.hashing;
  const limiter = new SharedRateLimiter(store.loginThrottle, rateLimit(authSettings));
  const accounts = new AccountService(store, caches, {
    hasher: hashing,
    options: { minPasswordLength: () => authSettings.minPasswordLength },
  });
  const domains = new DomainService(store, accounts);
  let hashWithKey = await keyedHasher(await loadCredentialKey(store));
  // Applying a snapshot may replace the key (src/directory/keyed_secrets.ts); every user hashes through this.
  const keyedHash = (secret: string) => hashWithKey(secret);
  const keyedSecrets = new KeyedSecrets(store, async (key) => {
    hashWithKey = await keyedHasher(key);
  });
  const accessKeys = new AccessKeyService(store, accounts, { keyedHash });
  const objects = new ObjectService({ accounts, domains, accessKeys, settings });
  // Unknown logins verify against a hash with the parameters most stored passwords have: after the
  // Argon2 settings change, existing hashes keep their old parameters until their password is set
  // again, and an unknown login must cost what those accounts cost. Worked out again after any change
  // of credentials or settings, at the next unknown login.
  let dummy: { parameters: string; phc: string } | undefined;
  let dummyStale = true;
  const currentDummyHash = async () => {
    if (dummyStale || !dummy) {
      dummyStale = false;
      const stored = await store.credentials.commonPasswordParameters();
      const parameters = stored !== undefined && isArgon2idPhc(dummyPhc(stored))
        ? stored
        : phcParameters(authSettings);
      if (dummy?.parameters !== parameters) dummy = { parameters, phc: dummyPhc(parameters) };
    }
    return dummy.phc;
  };
  const authDeps = {
    accounts,
    accessKeys,
    caches,
    hasher: hashing,
    limiter,
    dummyHash: currentDummyHash,
    headerKey: (header: string) => blake3Hash(encodeHeader(header)).toHex(),
    tokenVerifier: (token: string) => oauth.verifyAccessToken(token),
    // Only a count for the dashboard: a database that cannot take it must not turn a 401 into a 500.
    async onLoginFailure({ login, client }: { login: string; client: string }) {
      getLogger(["postern", "auth"]).warn(FAILED_LOGIN_MESSAGE, loginFailure(client, "password", login));
      try {
        await store.activity.recordLoginFailure(Date.now());
      } catch (error) {
        getLogger(["postern", "auth"]).warn("Failed login not counted: {error}", { error: String(error) });
      }
    },
    // Stored as keyed hashes: the table says which clients an account used, never their addresses.
    knownClients: {
      has: (accountId: number, client: string) =>
        store.credentials.isLoginClient(accountId, keyedHash(client)),
      async remember(accountId: number, client: string) {
        try {
          await store.credentials.rememberLoginClient(accountId, keyedHash(client), {
            at: Date.now(),
            keep: KNOWN_CLIENTS_PER_ACCOUNT,
          });
        } catch (error) {
          getLogger(["postern", "auth"]).warn("Login client not remembered: {error}", {
            error: String(error),
          });
        }
      },
    },
  };
  // A write outside the directory services (OAuth) logs its invalidation, then applies it here.
  const invalidate = async (event: InvalidationEvent) => {
    await store.transaction(() => store.invalidations.append([event]));
    await caches.apply(event);
  };
  const oauth = await OAuthProvider.open({
    store,
    accounts,
    settings,
    objects,
    keyedHash,
    bootstrapKey: options.encryptionKey,
    env: options.env ?? {},
    invalidate,
    tokenKey: (token) => authDeps.headerKey(token),
  });
  const authenticator = new Authenticator(authDeps);
  // authDeps is the prototype, so later changes to it (a new dummy hash) reach this one too.
  const connectionAuthenticator = new Authenticator(Object.create(authDeps, {
    limiter: { value: new RateLimiter({ freeAttempts: Number.MAX_SAFE_INTEGER, maxKeys: 1 }) },
    onLoginFailure: { value: undefined },
  }));
  settings.applyLocally = (event) => caches.apply(event);
  // New Argon2 parameters are proved on this machine before they are stored; the new hasher takes
  // over once the write has committed.
  settings.applyWith("Authentication", (next, changed) => hasher.prove(next, changed));
  caches.onInvalidation(async (event) => {
    if (event.kind === "credentials" || event.kind === "all" || event.kind === "settings") dummyStale = true;
    await oauth.onInvalidation(event);
    if (event.kind !== "settings") return;
    if (event.name === "Cache") caches.updateSettings(await settings.get("Cache"));
    if (event.name === "Authentication") {
      authSettings = await settings.get("Authentication");
      limiter.updateOptions(rateLimit(authSettings));
      hasher.adopt(authSettings);
    }
  });
  const mailboxes = new MailboxService(store, accounts, (body) => accounts.write(body));
  objects.register("MailboxGrant", mailboxGrantHandler(store, accounts, mailboxes));
  // Content addresses of blobs: every delivered message is hashed on the event loop (blake3_blobs.ts).
  const blobs = new BlobService(store, accounts, mailboxes, await blobHasher());
  // Every mail write logs its changes and events in its transaction, as the directory's do.
  const write: AccountService["write"] = (body) => accounts.write(body);
  // An Email/import's messages are parsed in a worker thread (mail/facts_pool.ts).
  const importParses = new FactsPool();
  const emails = new EmailService(store, accounts, mailboxes, blobs, write, importParses);
  const identities = new IdentityService(store, accounts, write);
  const vacation = new VacationService(store, accounts, write);
  const delivery = new LocalDelivery(store, accounts, blobs, () => emails, vacation);
  const dkimKeys = new DkimKeyService(store, textSealer(options.encryptionKey, DKIM_SEAL_CONTEXT));
  // A domain is created even if its keys cannot be made now: the next start makes them.
  domains.onCreated((id) =>
    dkimKeys.ensure(id).catch((error) =>
      warn(`DKIM keys of domain ${id} could not be made: ${error instanceof Error ? error.message : error}`)
    )
  );
  objects.register("DkimKey", dkimKeyHandler(store, dkimKeys));
  const queueView = new OutboundQueueView(store, (body) => accounts.write(body));
  objects.register("QueuedMessage", queueView.handler());
  objects.useDomainKeys({
    published: (domainId) => dkimKeys.ofDomain(domainId),
    rotate: async (domainId) => (await dkimKeys.rotate(domainId)).map((k) => k.selector),
  });
  // Domains from before DKIM keys existed, or whose keys a crash kept from being made, get them now.
  try {
    await dkimKeys.ensureAll();
  } catch (error) {
    warn(`DKIM keys could not be made for every domain: ${error instanceof Error ? error.message : error}`);
  }
  const dkimLog = getLogger(["postern", "dkim"]);
  // RSA signatures in a worker thread: on the event loop they were most of a sent message's cost.
  const rsaSigns = new RsaSignPool(inlineRsaSign);
  const signer = new DkimSigner(dkimKeys, (problem) => dkimLog.warn("{problem}", { problem }), {
    rsa: (pem, data) => rsaSigns.sign(pem, data),
  });
  const forwarding = new Forwarding(
    new Srs(options.encryptionKey),
    new ArcSealer(dkimKeys, (problem) => dkimLog.warn("{problem}", { problem })),
    (message) => getLogger(["postern", "mail", "forwarding"]).info(message),
  );
  const submissions = new SubmissionService(
    store,
    { accounts, identities, emails, blobs, delivery, sign: (message) => signer.sign(message) },
    write,
  );
  const outbound = openOutbound({
    store,
    settings,
    write,
    local: delivery,
    sign: (message) => signer.sign(message),
    mailHost: options.mailHost ?? machineName(),
    dnsServers: options.dnsServers,
    policyFetch: options.policyFetch,
    mxTransport: options.outboundTransport,
    bounces: options.bounces,
    returnPath: (mailFrom) => forwarding.returnPath(mailFrom),
  });
  delivery.replyElsewhere = async (accountId, to, message) =>
    void await outbound.outboundQueue.reply(accountId, to, message);
  // A database with no emails to rebuild the full-text index from (a new one) swaps it at once, so it
  // never writes each new email into two indexes; any other waits for the server's claimed job, and so
  // does this one when another process holds the write lock now (the job swaps it later).
  const searchRebuild = new SearchRebuild(store);
  await store.searchRebuild.finish().catch((error) => {
    if (!(error instanceof UnavailableError)) throw error;
  });
  return {
    store,
    caches,
    hashing,
    limiter,
    accounts,
    domains,
    inbound: new InboundDelivery(store, {
      accounts,
      domains,
      blobs,
      local: delivery,
      write,
      reports: new DsnReceiver(store, write),
      forwarding,
    }),
    accessKeys,
    keyedSecrets,
    settings,
    grants: new GrantService(store),
    changes: new ChangeService(store),
    objects,
    authenticator,
    connectionAuthenticator,
    oauth,
    mailboxes,
    blobs,
    emails,
    searchRebuild,
    searchIndexer,
    imapMailboxes: new ImapMailboxService(store, { accounts, mailboxes, emails, blobs }, write),
    identities,
    submissions,
    queue: outbound.queue,
    outboundQueue: outbound.outboundQueue,
    dkimKeys,
    messageSubmission: new MessageSubmission(store, { identities, emails, blobs, submissions }),
    queueView,
    deliveryMetrics: outbound.deliveryMetrics,
    vacation,
    pushSubscriptions: new PushSubscriptionService(store),
    shareNotifications: new ShareNotificationService(store, (body) => accounts.write(body)),
    mtaSts: outbound.mtaSts,
    tlsReports: outbound.tlsReports,
    encryptionKey: options.encryptionKey,
    sync: () => caches.sync(),
    prestart: () => hasher.prestart(),
    checkHashCost: () => hasher.checkCost(),
    pruneInvalidations: () => store.invalidations.prune(),
    runningServers: () => store.servers.running(Date.now() - 3 * SERVER_HEARTBEAT_MS),
    async close() {
      await outbound.close();
      rsaSigns.close();
      importParses.close();
      hasher.close();
      caches.close();
      await searchIndexer.close();
      store.close();
    },
  };
}

function rateLimit(settings: AuthenticationSettings) {
  return {
    freeAttempts: settings.failedLoginFreeAttempts,
    windowMs: settings.failedLoginWindowSeconds * 1000,
    baseDelayMs: settings.failedLoginBaseDelaySeconds * 1000,
    maxDelayMs: settings.failedLoginMaxDelaySeconds * 1000,
  };
}

/** The PHC parameter part (`m=…,t=…,p=…`) of the configured Argon2 parameters. */
function phcParameters(settings: AuthenticationSettings): string {
  return `m=${settings.argon2MemoryKiB},t=${settings.argon2Iterations},p=${settings.argon2Parallelism}`;
}

/**
 * A well-formed hash of no password with the given parameters: verifying against it costs the same as
 * verifying a stored hash with those parameters.
 */
function dummyPhc(parameters: string): string {
  const b64 = (n: number) =>
    btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n)))).replace(/=+$/, "");
  return `$argon2id$v=19$${parameters}$${b64(16)}$${b64(32)}`;
}

// Encoding into one reused array spares an allocation per request. A header that does not fit is encoded
// whole, never cut short:
// two long headers sharing a prefix must not share a cache key.
const headerBytes = new Uint8Array(32 * 1024);
const headerEncoder = new TextEncoder();
function encodeHeader(header: string): Uint8Array {
  const { read, written } = headerEncoder.encodeInto(header, headerBytes);
  return read === header.length ? headerBytes.subarray(0, written) : headerEncoder.encode(header);
}

/** The key of the keyed hash of app passwords and API keys, made once per database. */
async function loadCredentialKey(store: Store): Promise<Uint8Array> {
  const stored = await store.settings.get(CREDENTIAL_KEY);
  if (typeof stored === "string") return Uint8Array.from(atob(stored), (c) => c.charCodeAt(0));
  const key = crypto.getRandomValues(new Uint8Array(32));
  await store.transaction(async () => {
    if (await store.settings.get(CREDENTIAL_KEY) === undefined) {
      await store.settings.put(CREDENTIAL_KEY, btoa(String.fromCharCode(...key)));
    }
  });
  return loadCredentialKey(store);
}

/** The machine's host name, "localhost" when it cannot be read. */
function machineName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}
