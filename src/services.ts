/**
 * Wires the store and the services once; the server, the CLI in local mode and the TUI all use this,
 * so every surface goes through the same code paths and caches.
 */
import { getLogger } from "@logtape/logtape";
import { createBLAKE3 } from "hash-wasm";
import { GrantService } from "./acl/mod.ts";
import { Authenticator, isArgon2idPhc, keyedHasher, PasswordHasher, RateLimiter } from "./auth/mod.ts";
import { DirectoryCaches } from "./cache/mod.ts";
import {
  AccessKeyService,
  AccountService,
  ChangeService,
  DomainService,
  ObjectService,
  type PasswordHashing,
  SettingsService,
} from "./directory/mod.ts";
import type { AuthenticationSettings } from "./model/objects/mod.ts";
import type { InvalidationEvent } from "./model/types.ts";
import {
  BlobService,
  EmailService,
  IdentityService,
  LocalDelivery,
  mailboxGrantHandler,
  MailboxService,
  PushSubscriptionService,
  ShareNotificationService,
  SmarthostRelay,
  SubmissionService,
  VacationService,
} from "./mail/mod.ts";
import { OAuthProvider, textSealer } from "./oauth/mod.ts";
import {
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
  limiter: RateLimiter;
  accounts: AccountService;
  domains: DomainService;
  accessKeys: AccessKeyService;
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
  identities: IdentityService;
  vacation: VacationService;
  pushSubscriptions: PushSubscriptionService;
  submissions: SubmissionService;
  shareNotifications: ShareNotificationService;
  encryptionKey: Uint8Array;
  /** Applies other processes' invalidations; one cheap call, made before each request. */
  sync(): Promise<void> | undefined;
  /** Starts the password-hash workers ahead of the first logins (servers call it at start). */
  prestart(): void;
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
  /** Hash workers (default: cores, at most 4). */
  hashWorkers?: number;
  /** The environment read at boot (a SecretKey may name a variable); defaults to none. */
  env?: Readonly<Record<string, string | undefined>>;
}

const CREDENTIAL_KEY = "_internal.credentialHashKey";
/** The purpose of the key that seals secret settings (the smarthost password). */
const SETTINGS_SEAL_CONTEXT = "postern 2026-12 settings secret seal";

/** Opens the database and builds every service over it. */
export async function openServices(options: ServiceOptions): Promise<Services> {
  const store = openStore(options.databasePath, {
    synchronous: options.synchronous,
    busyTimeoutMs: options.busyTimeoutMs,
  });
  const settings = new SettingsService(store, textSealer(options.encryptionKey, SETTINGS_SEAL_CONTEXT));
  const cacheSettings = await settings.get("Cache");
  let authSettings = await settings.get("Authentication");
  const caches = new DirectoryCaches(cacheSettings, store.invalidations);
  let hasher = new PasswordHasher({ ...argon2(authSettings), workers: options.hashWorkers });
  // Settings can change the Argon2 parameters at run time; every user of hashing goes through this.
  const hashing = {
    hash: (password: string) => hasher.hash(password),
    verify: (phc: string, password: string) => hasher.verify(phc, password),
    isUsableHash: isArgon2idPhc,
  };
  const limiter = new RateLimiter(rateLimit(authSettings));
  const accounts = new AccountService(store, caches, {
    hasher: hashing,
    options: { minPasswordLength: () => authSettings.minPasswordLength },
  });
  const domains = new DomainService(store, accounts);
  const credentialKey = await loadCredentialKey(store);
  const keyedHash = await keyedHasher(credentialKey);
  const accessKeys = new AccessKeyService(store, accounts, { keyedHash });
  const objects = new ObjectService({ accounts, domains, accessKeys, settings });
  // BLAKE3 in WebAssembly, reused: 0.8 µs per header against 1.4 µs for node:crypto's SHA-256.
  const blake3 = await createBLAKE3();
  const authDeps = {
    accounts,
    accessKeys,
    caches,
    hasher: hashing,
    limiter,
    dummyHash: dummyHash(authSettings),
    headerKey: (header: string) => blake3.init().update(encodeHeader(header)).digest("hex"),
    tokenVerifier: (token: string) => oauth.verifyAccessToken(token),
    // Only a count for the dashboard: a database that cannot take it must not turn a 401 into a 500.
    async onLoginFailure() {
      try {
        await store.activity.recordLoginFailure(Date.now());
      } catch (error) {
        getLogger(["postern", "auth"]).warn("Failed login not counted: {error}", { error: String(error) });
      }
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
  caches.onInvalidation(async (event) => {
    await oauth.onInvalidation(event);
    if (event.kind !== "settings") return;
    if (event.name === "Cache") caches.updateSettings(await settings.get("Cache"));
    if (event.name === "Authentication") {
      authSettings = await settings.get("Authentication");
      limiter.updateOptions(rateLimit(authSettings));
      // Verifications under way on the old workers finish there; new ones go to the new hasher.
      hasher.closeWhenIdle();
      hasher = new PasswordHasher({ ...argon2(authSettings), workers: options.hashWorkers });
      authDeps.dummyHash = dummyHash(authSettings);
    }
  });
  const mailboxes = new MailboxService(store, accounts, (body) => accounts.write(body));
  objects.register("MailboxGrant", mailboxGrantHandler(store, accounts, mailboxes));
  const blobs = new BlobService(
    store,
    accounts,
    mailboxes,
    (bytes) => blake3.init().update(bytes).digest("binary"),
  );
  // Every mail write logs its changes and events in its transaction, as the directory's do.
  const write: AccountService["write"] = (body) => accounts.write(body);
  const emails = new EmailService(store, accounts, mailboxes, blobs, write);
  const identities = new IdentityService(store, accounts, write);
  const vacation = new VacationService(store, accounts, write);
  const delivery = new LocalDelivery(store, accounts, blobs, () => emails, vacation);
  const relay = new SmarthostRelay(() => settings.get("Smarthost"));
  const submissions = new SubmissionService(
    store,
    { accounts, identities, emails, blobs, delivery, relay },
    write,
  );
  return {
    store,
    caches,
    hashing,
    limiter,
    accounts,
    domains,
    accessKeys,
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
    identities,
    submissions,
    vacation,
    pushSubscriptions: new PushSubscriptionService(store),
    shareNotifications: new ShareNotificationService(store, (body) => accounts.write(body)),
    encryptionKey: options.encryptionKey,
    sync: () => caches.sync(),
    prestart: () => hasher.prestart(),
    pruneInvalidations: () => store.invalidations.prune(),
    runningServers: () => store.servers.running(Date.now() - 3 * SERVER_HEARTBEAT_MS),
    close() {
      hasher.close();
      caches.close();
      store.close();
      return Promise.resolve();
    },
  };
}

function argon2(settings: AuthenticationSettings) {
  return {
    memoryKiB: settings.argon2MemoryKiB,
    iterations: settings.argon2Iterations,
    parallelism: settings.argon2Parallelism,
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

/**
 * A well-formed hash of no password, with the configured parameters: verifying against it costs the
 * same as a real verification, so an unknown login answers in the same time as a wrong password.
 */
function dummyHash(settings: AuthenticationSettings): string {
  const b64 = (n: number) =>
    btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n)))).replace(/=+$/, "");
  return `$argon2id$v=19$m=${settings.argon2MemoryKiB},t=${settings.argon2Iterations},p=${settings.argon2Parallelism}$${
    b64(16)
  }$${b64(32)}`;
}

// hash-wasm turns strings into bytes through Node's Buffer (a pool allocation per call); encoding
// into one reused array is cheaper. A header that does not fit is encoded whole, never cut short:
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
