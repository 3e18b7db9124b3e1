/** Composition root: config → store → services → surfaces → one fetch handler. */
import { getLogger, type Logger } from "@logtape/logtape";
import {
  acmeChallengeRoutes,
  apiRoutes,
  autoconfigRoutes,
  autodiscoverRoutes,
  mtaStsRoutes,
} from "./api/mod.ts";
import {
  type Config,
  dataDirError,
  DEFAULT_MAX_CONNECTIONS,
  fastLogger,
  jsonLogLine,
  listenOrExplain,
  loadSecretKey,
  mailEndpoints,
  perProcessConfig,
} from "./config/mod.ts";
import { bootstrap, describeStoredProblem } from "./directory/mod.ts";
import { printFirstStart, warnIfProxiedWithoutTrust } from "./start_notices.ts";
import {
  ConnectionStats,
  createHandler,
  DEFAULT_COMPRESSION,
  HttpMetrics,
  overallConnectionCap,
  type RequestContext,
  Router,
  serveBehindFront,
} from "./http/mod.ts";
import { createJmap, defaultCore } from "./jmap/mod.ts";
import { backgroundTask } from "./model/background.ts";
import { startServerTimers } from "./server_timers.ts";
import { oauthRoutes } from "./oauth/mod.ts";
import { openServices, type ServiceOptions, type Services } from "./services.ts";
import { SERVER_HEARTBEAT_MS, startCheckpointer, type StartupCheck, startupCheck } from "./store/mod.ts";
import { VERSION } from "./version.ts";
import { DATABASE_METRICS, processMetrics, siblingMetrics } from "./server_metrics.ts";
import { MisconfigurationError } from "./model/errors.ts";
import { hostPort } from "./mx.ts";
import { type MailListeners, startMailListeners } from "./mail_listeners.ts";
import { SmtpMetrics } from "./smtp/mod.ts";
import { ImapMetrics } from "./imap/mod.ts";
import { bindHttps, prepareTls, startHttps } from "./https.ts";
import type { AcmeCertificates } from "./tls/mod.ts";

/** A wired application: its services and its fetch handler. */
export interface App {
  services: Services;
  handler: (request: Request, info: Deno.ServeHandlerInfo) => Promise<Response>;
  /**
   * The first step of a shutdown: ends every long-lived connection (event streams end, WebSockets
   * close with 1001, and any opened afterwards at once) and stops the web push sender. Returns how
   * many connections were open. Every long-lived connection registers with jmap/push/live_credentials.ts
   * to have its credential watched, so IMAP and SMTP sessions that do are ended here too.
   */
  closeConnections(): number;
  /** Watches a long-lived connection's credential (IMAP sessions): jmap/push/live_credentials.ts. */
  watchConnection: ReturnType<typeof createJmap>["live"]["watch"];
  /**
   * Calls `notify` after writes of any process that changed mail `accountId` sees (the push hub over
   * the change log), until stopped: IMAP IDLE.
   */
  listenChanges(accountId: number, notify: () => void): { stop(): void };
  close(): Promise<void>;
  /** The JMAP methods the engine serves, read from its method table. */
  jmapMethodNames(): string[];
  /** How many verified push subscriptions this process serves now (a push retry pending counts). */
  webPushServed(): number;
}

/** One of the serving processes: 0 is the one the operator started, which does the housekeeping. */
export interface ServingProcess {
  index: number;
  count: number;
}

/** What serve() does beside serving, for the supervisor of several processes (src/supervisor.ts). */
export interface ServeHooks {
  /** Called once every listener of this process is up, with their addresses by name. */
  onServing?: (listeners: Record<string, string>) => void;
  /** Called when the shutdown begins. */
  onStopping?: () => void;
  /** Settles when this process should shut down as on SIGTERM (a child whose supervisor is gone). */
  stopWhen?: Promise<unknown>;
}

/** With several processes, how often process 0 re-reads the web push subscriptions. */
const MULTI_PROCESS_PUSH_SWEEP_MS = 5_000;

/** The JMAP types whose changes wake an IMAP IDLE (its mailboxes and their messages). */
const MAIL_TYPES: ReadonlySet<string> = new Set(["Mailbox", "Email"]);

/** Options for tests, benchmarks and the CLI. */
export interface AppOptions {
  accessLog?: boolean;
  hashWorkers?: number;
  /** Read workers of the store (ServiceOptions.readWorkers); serve() takes config.readWorkers. */
  readWorkers?: number;
  /** The full-text index filled by a worker thread (ServiceOptions.searchIndexWorker); serve() does. */
  searchIndexWorker?: boolean;
  /** Where warnings about stored settings go (default: the log). */
  warn?: (message: string) => void;
  /** Where the news of a schema upgrade goes (default: the log). */
  notice?: (message: string) => void;
  /** What the connection fronts did (postern serve: HTTP, and HTTPS when it listens), shown on /metrics. */
  connectionStats?: ConnectionStats[];
  /** What the MX did (postern serve with --smtp-listen), shown on /metrics. */
  smtpMetrics?: SmtpMetrics;
  /** What the IMAP listeners did (postern serve with --imap-listen or --imaps-listen), shown on /metrics. */
  imapMetrics?: ImapMetrics;
  /** The listeners that are up, by protocol (host:port), shown on /healthz; filled as they start. */
  listeners?: Record<string, string>;
  /** This process among the serving processes (src/supervisor.ts); default: the only one. */
  process?: ServingProcess;
  /** Several processes: the others' own /metrics series (see http/metrics_merge.ts). */
  siblingMetrics?: () => Promise<string[]>;
  /** ACME certificates: their HTTP-01 answers are served and their figures shown on /metrics. */
  acme?: AcmeCertificates;
  /** Delivers queued mail by MX (see ServiceOptions.outboundTransport). */
  outboundTransport?: ServiceOptions["outboundTransport"];
  /** The environment openData reads secrets from (default: the process's; the CLI passes its own). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Opens the data directory (creating it and the key on first start) and builds the services. */
export async function openData(
  config: Config,
  options: AppOptions = {},
): Promise<{ services: Services; keyCreated: boolean }> {
  await Deno.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const env = options.env ?? Deno.env.toObject();
  const { key, created } = await loadSecretKey(config.encryptionKey, env);
  const notice = options.notice ?? ((message: string) => getLogger(["postern", "store"]).info(message));
  const services = await openServices({
    databasePath: config.databasePath,
    synchronous: config.synchronous,
    busyTimeoutMs: config.busyTimeoutMs,
    migrationBackup: config.migrationBackup,
    onMigration: ({ from, to, backup }) =>
      notice(
        `Upgraded database ${config.databasePath} from schema ${from} to ${to}; ` +
          (backup ? `copy of schema ${from} at ${backup}` : "no copy made (--no-backup)"),
      ),
    encryptionKey: key,
    dnsServers: config.dnsServers,
    hashWorkers: options.hashWorkers,
    readWorkers: options.readWorkers,
    // Several serving processes write all the time: they take turns fairly (store/writers_lock.ts).
    writersLock: config.processes > 1,
    searchIndexWorker: options.searchIndexWorker,
    env,
    warn: options.warn,
    mailHost: config.mailHost,
    outboundTransport: options.outboundTransport,
  });
  return { services, keyCreated: created };
}

/** Builds the fetch handler over existing services. */
export function createApp(config: Config, services: Services, options: AppOptions = {}): App {
  // Its info lines (one per request) skip LogTape's dispatch under the server's own configuration.
  const log = fastLogger(["postern", "http"]);
  const metrics = new HttpMetrics();
  const jmap = createJmap({
    accounts: services.accounts,
    objects: services.objects,
    changes: services.changes,
    core: defaultCore(config.maxBodyBytes),
    version: VERSION,
    log: getLogger(["postern", "jmap"]),
    rotateSigningKey: () => services.oauth.rotateSigningKey(),
    mailEndpoints: mailEndpoints(config),
    queue: services.queueView,
    mailboxes: services.mailboxes,
    blobs: services.blobs,
    emails: services.emails,
    identities: services.identities,
    submissions: services.submissions,
    vacation: services.vacation,
    pushSubscriptions: services.pushSubscriptions,
    shareNotifications: services.shareNotifications,
    principalScope: async () => (await services.settings.get("Sharing")).principalScope,
    pushPrivateTargets: config.pushPrivateTargets,
    authenticate: (authorization, client) =>
      services.connectionAuthenticator.principalFor(authorization, client),
    onInvalidation: (listener) => services.caches.onInvalidation(listener),
    sync: () => services.sync(),
    corsOrigins: config.corsOrigins,
    // Several processes: process 0 pushes every change (the push hub reads every process's writes), and
    // re-reads the subscriptions each few seconds, since another process may have verified one.
    webPush: (options.process?.count ?? 1) > 1
      ? { sendChanges: options.process?.index === 0, sweepMs: MULTI_PROCESS_PUSH_SWEEP_MS }
      : undefined,
  });
  const acme = options.acme;
  const router = new Router<RequestContext>().add(
    ...(acme ? acmeChallengeRoutes((token) => acme.challenge(token)) : []),
    ...jmap.routes,
    ...oauthRoutes({
      provider: services.oauth,
      accounts: services.accounts,
      login: (username, password, client, origin) =>
        services.authenticator.authenticate(basicHeader(username, password), client, origin),
      userCodeWait: (client) => services.authenticator.userCodeWait(client),
      userCodeFailed: (client) => services.authenticator.userCodeFailed(client),
    }),
    ...autoconfigRoutes({ domains: services.domains, endpoints: mailEndpoints(config) }),
    ...autodiscoverRoutes({ domains: services.domains, endpoints: mailEndpoints(config) }),
    ...mtaStsRoutes({ domains: services.domains, endpoints: mailEndpoints(config) }),
    ...apiRoutes({
      accounts: services.accounts,
      caches: services.caches,
      authenticator: services.authenticator,
      metrics,
      version: VERSION,
      listeners: () => options.listeners ?? {},
      process: options.process ?? { index: 0, count: 1 },
      siblings: options.siblingMetrics && { metrics: options.siblingMetrics, shared: DATABASE_METRICS },
      extraMetrics: processMetrics(services, {
        ...options,
        acme,
        skippedSessionAccounts: () => jmap.skippedSessionAccounts(),
      }),
    }),
  );
  const handler = createHandler({
    router,
    authenticate: (authorization, client) => services.authenticator.principalFor(authorization, client),
    beforeRequest: () => services.sync(),
    trustedProxies: config.trustedProxies,
    maxBodyBytes: config.maxBodyBytes,
    publicUrl: config.publicUrl,
    serverNames: [config.domain, config.hostname],
    metrics,
    log,
    accessLog: options.accessLog,
    cors: { origins: config.corsOrigins, maxAgeSeconds: config.corsMaxAgeSeconds },
    compression: DEFAULT_COMPRESSION,
  });
  void jmap.webPush.start();
  const closeConnections = () => {
    jmap.webPush.stop();
    return jmap.live.closeAll();
  };
  return {
    services,
    handler,
    closeConnections,
    watchConnection: (connection) => jmap.live.watch(connection),
    listenChanges: (accountId, notify) => {
      let stopped = false;
      let remove: (() => void) | undefined;
      void jmap.push.listen({ accountId, types: MAIL_TYPES, notify: () => notify() }).then((stop) => {
        if (stopped) stop();
        else remove = stop;
      });
      return {
        stop() {
          stopped = true;
          remove?.();
          remove = undefined;
        },
      };
    },
    jmapMethodNames: () => jmap.engine.methodNames(),
    webPushServed: () => jmap.webPush.size,
    close: async () => {
      closeConnections();
      await services.close();
    },
  };
}

/** An `Authorization: Basic` value for a login typed into a sign-in page. */
function basicHeader(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * Runs the server until SIGINT or SIGTERM, creating the data directory and admin on first start.
 * At the signal: stop accepting, end every long-lived connection, stop the timers, wait up to the
 * shutdown grace for requests in progress, close the database. Connections still open then (a client
 * that stopped sending in the middle of a body) are abandoned, so the caller should exit the process
 * when this returns. A second signal during the shutdown exits at once, with status 1.
 */
export async function serve(
  wholeConfig: Config,
  options: AppOptions & ServeHooks & { onListen?: (addr: Deno.NetAddr) => void } = {},
) {
  // The processes actually running decide (one unless a supervisor says otherwise), not the count asked:
  // a server started in-process is the only one, whatever --processes says.
  const serving = options.process ?? { index: 0, count: 1 };
  const config = perProcessConfig({ ...wholeConfig, processes: serving.count, reusePort: serving.count > 1 });
  // Process 0 does what must happen once: the first admin and the housekeeping timers.
  const first = serving.index === 0;
  const log = getLogger(["postern", "server"]);
  const startLog = getLogger(["postern", "start"]);
  // The address first, then the data directory: a start that cannot serve creates nothing (no admin
  // whose once-only password would be printed for nothing).
  const listener = listenOrExplain(config.hostname, config.port, config.reusePort);
  // HTTPS and the certificate files too (--https-listen, --tls-cert, --acme-ca-file).
  let httpsListener: Deno.TcpListener | undefined;
  let tlsFor;
  try {
    httpsListener = bindHttps(config);
    tlsFor = await prepareTls(config);
  } catch (error) {
    listener.close();
    httpsListener?.close();
    throw error;
  }
  let services: Services;
  try {
    services = (await openData(config, {
      ...options,
      readWorkers: options.readWorkers ?? config.readWorkers,
      searchIndexWorker: options.searchIndexWorker ?? true,
    })).services;
  } catch (error) {
    listener.close();
    httpsListener?.close();
    throw error instanceof MisconfigurationError ? error : dataDirError(error, config.dataDir);
  }
  try {
    // A token key that cannot be read (a missing variable or file) stops the start, naming it.
    await services.oauth.checkServerKey();
    await refuseUnusableSettings(services, config.dataDir);
  } catch (error) {
    listener.close();
    httpsListener?.close();
    await services.close();
    throw error;
  }
  warnIfProxiedWithoutTrust(config, log);
  // The MX binds before the first admin is made too, and before the start line (which tests and scripts
  // wait for) so that line names every listener.
  const smtpMetrics = new SmtpMetrics();
  const tls = tlsFor(services);
  const imapMetrics = new ImapMetrics(() => services.imapMailboxes.views.stats());
  // IMAP sessions register with the app's watch of long-lived connections once the app is made.
  const appWatch: { current?: Pick<App, "watchConnection" | "listenChanges"> } = {};
  let mail: MailListeners;
  try {
    mail = await startMailListeners(config, services, {
      smtpMetrics,
      imapMetrics,
      tlsSource: tls.source,
      live: () => appWatch.current,
    });
  } catch (error) {
    listener.close();
    httpsListener?.close();
    await services.close();
    throw error;
  }
  if (first) {
    const made = await bootstrap(services, { domain: config.domain, adminPassword: config.adminPassword });
    if (made.created) printFirstStart(made, startLog);
  }
  const connectionStats = new ConnectionStats("http");
  const httpsStats = new ConnectionStats("https");
  const listeners: Record<string, string> = mail.addresses();
  const app = createApp(config, services, {
    ...options,
    connectionStats: httpsListener ? [connectionStats, httpsStats] : [connectionStats],
    smtpMetrics,
    imapMetrics,
    listeners,
    acme: tls.acme,
    process: serving,
    siblingMetrics: serving.count > 1 ? () => siblingMetrics(services, registration) : undefined,
  });
  appWatch.current = app;
  services.prestart();
  const hashCheck = services.checkHashCost().catch((error) =>
    log.warn("Measuring a password hash failed: {error}", { error })
  );
  // The timers: housekeeping in process 0, the senders in each (src/server_timers.ts).
  const timers = startServerTimers(config, services, first, log);
  const maxConnections = overallConnectionCap(
    config.maxConnections,
    DEFAULT_MAX_CONNECTIONS,
    (message) => log.warn(message),
  );
  let https;
  try {
    // Its own counters: the front's figures are per listener, both on /metrics.
    https = httpsListener && tls.source && await startHttps(config, {
      listener: httpsListener,
      source: tls.source(),
      maxConnections,
      stats: httpsStats,
      handler: app.handler,
      intercept: tls.intercept,
    });
  } catch (error) {
    listener.close();
    httpsListener?.close();
    await mail.close(0);
    await app.close();
    throw error;
  }
  if (https) listeners.https = hostPort(https.addr);
  // WAL checkpoints in a worker: a 64 MB checkpoint inside a commit would stall every client for 300 ms.
  // Process 0's only, with several: one checkpointer keeps the shared WAL file short.
  const checkpoints = config.databasePath === ":memory:" || !first
    ? undefined
    : startCheckpointer(config.databasePath);
  const server = serveBehindFront({
    hostname: config.hostname,
    port: config.port,
    log: getLogger(["postern", "http"]),
    maxConnections,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    headerTimeoutMs: config.headerTimeoutSeconds * 1000,
    idleTimeoutMs: config.idleTimeoutSeconds * 1000,
    exempt: config.trustedProxies,
    stats: connectionStats,
    listener,
    onListen: (addr) => {
      listeners.http = hostPort(addr);
      const smtp = mail.describe();
      const secure = https ? `, https://${listeners.https}` : "";
      // The other processes serve the same addresses: their start is a line of their own.
      if (!first) {
        return startLog.info("Postern process {index} of {count} serving", {
          index: serving.index,
          count: serving.count,
        });
      }
      startLog.info("Postern {version} listening on http://{http}{secure}{smtp}", {
        version: VERSION,
        http: listeners.http,
        secure,
        smtp,
        listeners,
      });
      options.onListen?.(addr);
    },
  }, app.handler);
  // The database check reads the whole file: in a worker, while the server serves (store/startup_check.ts),
  // once every listener is bound (a start that fails says only why), in the first process only.
  const databaseCheck = first ? checkDatabase(config, services, log) : undefined;
  // ACME: the first certificate is ordered now that the HTTP listener answers the CA's HTTP-01 request;
  // then a check each minute (one read unless due), the order itself claimed in the database.
  const acme = tls.acme;
  if (acme && first) {
    void timers.every(60_000, "Renewing the TLS certificate", () => acme.renewer.renewDue()).task.run();
  }
  // Tell the admin UI in local mode where this server answers; refreshed while it runs. A database
  // busy at start delays the registration (retried with backoff), never the serving.
  let registration: number | undefined;
  const thisServer = {
    url: localUrl(server.addr),
    pid: Deno.pid,
    version: VERSION,
    startedAt: Date.now(),
    internalUrl: server.internalUrl,
  };
  const registering = backgroundTask("Registering this server", async () => {
    registration ??= await services.store.servers.register(thisServer);
  }, { log });
  await registering.run();
  Deno.unrefTimer(
    timers.every(SERVER_HEARTBEAT_MS, "Refreshing this server's row", () => {
      return registration === undefined ? undefined : services.store.servers.seen(registration, Date.now());
    }).timer,
  );
  options.onServing?.({ ...listeners });
  const signalled = Promise.withResolvers<Deno.Signal | "supervisor gone">();
  let stopping = false;
  void options.stopWhen?.then(() => {
    if (stopping) return;
    stopping = true;
    signalled.resolve("supervisor gone");
  });
  const onSignal = (signal: Deno.Signal) => () => {
    if (stopping) {
      // Written at once: the process ends before an asynchronous sink would write it.
      const message = `Second signal (${signal}) during shutdown, stopping at once`;
      const record = { category: ["postern", "server"], level: "warning" as const, message: [message] };
      Deno.stderr.writeSync(new TextEncoder().encode(
        jsonLogLine({ ...record, rawMessage: message, timestamp: Date.now(), properties: { signal } }),
      ));
      Deno.exit(1);
    }
    stopping = true;
    signalled.resolve(signal);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, onSignal(signal));
  const signal = await signalled.promise;
  const graceMs = config.shutdownGraceSeconds * 1000;
  options.onStopping?.();
  log.info("{signal}: shutting down, waiting up to {grace} s for requests in progress", {
    signal,
    grace: config.shutdownGraceSeconds,
  });
  registering.stop();
  timers.stop();
  // Stop accepting first, then end the connections that would otherwise keep the shutdown waiting
  // for ever (Deno's graceful shutdown waits for every response, event streams included).
  const closing = Promise.all([server.shutdown(), https?.shutdown()]);
  // SMTP sessions: idle ones get 421 at once, a message being received may finish within the grace;
  // IMAP sessions get * BYE at once.
  const smtpClosing = mail.close(graceMs);
  const ended = app.closeConnections();
  if (ended > 0) log.info("Ended {count} event streams and WebSockets", { count: ended });
  // A stopped task's run() is the run still under way, if any: a batch of sends is let finish.
  // The start's hash measurement too: closing the hasher under it would only log a false failure.
  // Deliveries under way too; one cut off leaves its lease, which expires, and it is tried again.
  const done = await settlesWithin(
    Promise.all([closing, smtpClosing, timers.sending.run(), services.queue.idle(), hashCheck]),
    graceMs,
  );
  if (!done) {
    log.warn("Requests still in progress after {grace} s; stopping without them", {
      grace: config.shutdownGraceSeconds,
    });
  }
  if (registration !== undefined) {
    await services.store.servers.unregister(registration).catch(() => undefined);
  }
  databaseCheck?.stop();
  await checkpoints?.close();
  await app.close();
  log.info("Postern stopped");
}

/** Starts the start's database check and logs what it finds (or why it could not run) when it ends. */
function checkDatabase(config: Config, services: Services, log: Logger): StartupCheck {
  const check = startupCheck(config.databasePath, services.store.integrity);
  const started = performance.now();
  check.report.then((report) => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (report.ok) return log.info("Database check passed in {seconds} s", { seconds });
    log.warn("Database check found {count} problems; run `postern db check --repair`", {
      count: report.dangling.length + report.integrity.length + report.usage.length,
      integrity: report.integrity.slice(0, 20),
      dangling: report.dangling.slice(0, 20),
      usage: report.usage.slice(0, 20),
    });
  }, (error) => log.warn("Database check could not run: {error}", { error: error.message }));
  return check;
}

/** Whether `work` settles (either way) within `ms`. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = work.then(() => true, () => true);
  const expired = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A stored setting that cannot be used (an older Postern or a hand edit stored it) stops the start,
 * naming it and the command that fixes it: a server must not run quietly on other security settings
 * (Argon2 cost, token lifetimes, throttling) than the ones its administrator set. Every other
 * process opens the database anyway, reading the default, so the CLI can repair it.
 */
async function refuseUnusableSettings(services: Services, dataDir: string): Promise<void> {
  const problems = await services.settings.problems();
  if (problems.length === 0) return;
  throw new MisconfigurationError(
    `Cannot start: ${problems.length === 1 ? "a stored setting" : "stored settings"} cannot be used.\n` +
      problems.map((problem) => `  ${describeStoredProblem(problem, dataDir)}`).join("\n"),
  );
}

/** The URL a client on this machine reaches the server at (loopback for a wildcard address). */
function localUrl(addr: Deno.NetAddr): string {
  const host = addr.hostname === "0.0.0.0" ? "127.0.0.1" : addr.hostname === "::" ? "::1" : addr.hostname;
  return `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
}
