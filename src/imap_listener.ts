/**
 * Starting the IMAP listeners of `postern serve` from the configuration: 143 with STARTTLS
 * (--imap-listen) and 993 with implicit TLS (--imaps-listen), on the certificate source of the
 * submission listeners (files re-read when they change, or ACME), with the services the session
 * uses: the one authenticator (imap scope), MailboxService and the directory.
 */
import { encodeId } from "./model/ids.ts";
import { getLogger } from "@logtape/logtape";
import { checkSaslCredential } from "./auth/mod.ts";
import { type Config, listenError } from "./config/mod.ts";
import { normalizeLogin } from "./directory/mod.ts";
import {
  IMAP_SCOPE,
  type ImapMailboxes,
  type ImapMetrics,
  type ImapServer,
  type ImapTlsSource,
  startImapServer,
  type WatchedSession,
} from "./imap/mod.ts";
import type { Services } from "./services.ts";
import { VERSION } from "./version.ts";

/** What the app gives long-lived connections once it is made (src/server.ts App). */
export interface LiveHooks {
  watchConnection(session: WatchedSession): { stop(): void };
  listenChanges(accountId: number, listener: () => void): { stop(): void };
}

/** The IMAP listeners that are up, by name: "imap" (143), "imaps" (993). */
export type ImapListeners = Partial<Record<"imap" | "imaps", ImapServer>>;

/**
 * Starts the IMAP listeners that are configured. If one cannot bind, the other is closed and the
 * error names the address and the flag to change.
 */
export async function startImap(
  config: Config,
  services: Services,
  metrics: ImapMetrics,
  /** A new certificate source per listener; none: no TLS, no IMAP. */
  tlsSource: (() => ImapTlsSource) | undefined,
  /**
   * Set once the app is made: the registry of long-lived connections whose credentials are watched,
   * and the push hub's listeners for changes (IDLE).
   */
  live?: () => LiveHooks | undefined,
): Promise<ImapListeners> {
  const bound: ImapListeners = {};
  const { listen, secureListen, ...limits } = config.imap;
  if (!tlsSource || (!listen && !secureListen)) return bound;
  // IMAP has no HTTP request to bring the caches in step with other processes' writes (the CLI or TUI
  // on the database file): each check does it first, so a credential taken away elsewhere ends the
  // session at its next command, and a mailbox shared elsewhere is listed at once.
  const synced = async <T>(check: () => Promise<T>): Promise<T> => {
    await services.sync();
    return await check();
  };
  const deps = {
    checkLogin: (credentials: Parameters<typeof checkSaslCredential>[1], client: string) =>
      synced(() =>
        checkSaslCredential(
          {
            authenticate: (authorization, from) => services.authenticator.authenticate(authorization, from),
            accountIdOf: (login) => services.accounts.idByLogin(normalizeLogin(login)),
          },
          credentials,
          { client, scope: IMAP_SCOPE },
        )
      ),
    recheck: (authorization: string, client: string) =>
      synced(() => services.connectionAuthenticator.authenticate(authorization, client)),
    mailboxes: imapMailboxes(services),
    messages: services.imapMailboxes,
    metrics,
    log: getLogger(["postern", "imap"]),
    limits: { maxErrors: limits.maxErrors },
    version: VERSION,
    watch: (session: WatchedSession) => live?.()?.watchConnection(session) ?? { stop() {} },
    changes: (accountId: number, listener: () => void) =>
      live?.()?.listenChanges(accountId, listener) ?? { stop() {} },
  };
  const start = async (
    where: { hostname: string; port: number },
    implicitTls: boolean,
    flag: string,
  ): Promise<ImapServer> => {
    try {
      return await startImapServer({
        ...where,
        reusePort: config.reusePort,
        implicitTls,
        tls: tlsSource(),
        limits,
        deps,
      });
    } catch (error) {
      await bound.imap?.close();
      throw (error as { code?: unknown })?.code
        ? listenError(error, where.hostname, where.port, flag)
        : error;
    }
  };
  if (listen) bound.imap = await start(listen, false, "--imap-listen (POSTERN_IMAP_LISTEN)");
  if (secureListen) bound.imaps = await start(secureListen, true, "--imaps-listen (POSTERN_IMAPS_LISTEN)");
  return bound;
}

/** The mailbox services as the IMAP session sees them (exported for in-process session tests). */
export function imapMailboxes(services: Services): ImapMailboxes {
  const { mailboxes, accounts } = services;
  const synced = async <T>(work: () => Promise<T>): Promise<T> => {
    await services.sync();
    return await work();
  };
  return {
    list: (viewerId, accountId) =>
      synced(async () =>
        (await mailboxes.list(viewerId, accountId)).map((m) => ({
          id: m.id,
          accountId,
          name: m.name,
          parentId: m.parentId,
          role: m.role,
          subscribed: m.isSubscribed,
          rights: m.rights,
          messages: m.counts.totalEmails,
          unseen: m.counts.unreadEmails,
          shareWith: m.shareWith,
        }))
      ),
    names: (viewerId, accountId) =>
      synced(async () =>
        (await mailboxes.records(viewerId, accountId)).map((m) => ({
          id: m.id,
          accountId,
          name: m.name,
          parentId: m.parentId,
          role: m.role,
          rights: m.rights,
        }))
      ),
    sharers: (viewerId) =>
      synced(async () => {
        const out: Array<{ accountId: number; login: string }> = [];
        for (const ownerId of (await mailboxes.sharedAccounts(viewerId)).keys()) {
          const owner = await accounts.get(ownerId);
          if (owner) out.push({ accountId: ownerId, login: owner.name });
        }
        return out.sort((a, b) => a.login.localeCompare(b.login));
      }),
    create: (viewerId, accountId, change) => synced(() => mailboxes.create(viewerId, accountId, change)),
    update: (viewerId, accountId, id, change) =>
      synced(() => mailboxes.update(viewerId, accountId, id, change)),
    destroy: (viewerId, accountId, id) =>
      synced(() => mailboxes.destroy(viewerId, accountId, id, { removeEmails: true })),
    accountIdOf: (login) => synced(() => accounts.idByLogin(normalizeLogin(login))),
    loginOf: async (accountId) => (await accounts.get(accountId))?.name,
    imapStatus: (viewerId, accountId, id) =>
      synced(async () => {
        const status = await services.imapMailboxes.statusOf(viewerId, { accountId, mailboxId: id });
        return {
          uidNext: status.uidNext,
          uidValidity: status.uidValidity,
          highestModseq: BigInt(status.highestModseq),
          // RFC 8474: the same id as the JMAP Mailbox's.
          mailboxId: encodeId(id),
          size: status.size,
          deleted: status.deleted,
        };
      }),
    quota: (accountId) =>
      synced(async () => {
        const account = await accounts.get(accountId);
        const limits = account?.quotas ?? {};
        return {
          storage: limits.maxDiskQuota === undefined
            ? undefined
            : { used: await services.blobs.usedBytes(accountId), limit: limits.maxDiskQuota },
          mailboxes: limits.maxMailboxes === undefined
            ? undefined
            : { used: (await mailboxes.list(accountId, accountId)).length, limit: limits.maxMailboxes },
        };
      }),
  };
}
