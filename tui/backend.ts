/**
 * What the screens act on: the CLI's object client (the same operations on the local database or on
 * a server) plus what only one mode can do — counting what a delete removes and checking the
 * database in local mode, reaching the server's health and metrics in remote mode — and actions.
 */
import { decodeId } from "../src/model/ids.ts";
import type { Services } from "../src/services.ts";
import { ACTION_INFOS, type AdminBackend, type TuiClient } from "./backend_types.ts";
import { failedLogins, formatBytes } from "./format.ts";
import { count } from "./list.ts";
import { type RemoteAccess, remoteActions, remoteFacts } from "./remote.ts";

export type { ActionInfo, AdminBackend, DatabaseReport, Fact, TuiClient } from "./backend_types.ts";
export { ACTION_INFOS } from "./backend_types.ts";

const HOUR_MS = 3_600_000;

/** The backend over the local database file, given the services and the CLI's local client. */
export function localBackend(
  client: TuiClient,
  services: Services,
  paths: { dataDir: string; databasePath: string },
): AdminBackend {
  return {
    mode: "local",
    location: paths.dataDir,
    client: synced(client, services),
    async facts() {
      await services.sync();
      const sizes = await Promise.all(
        ["", "-wal"].map((suffix) => Deno.stat(paths.databasePath + suffix).then((s) => s.size, () => 0)),
      );
      const caches = services.caches.stats();
      const [counts, failures, servers] = await Promise.all([
        services.store.activity.counts(),
        services.store.activity.loginFailuresSince(Date.now() - HOUR_MS),
        services.runningServers(),
      ]);
      // A server on this database answers its health and counters over loopback; what the
      // database already told (mail, failed logins) is not repeated.
      const server = servers.length
        ? (await remoteFacts({ url: servers[0].url })).filter((f) =>
          f.label !== "Mail" && f.label !== "Failed logins"
        )
        : [{ label: "Server", value: "none running on this database" }];
      return [
        ...server,
        {
          label: "Mail",
          value: `${count(counts.mailboxes, "mailbox")} · ${count(counts.messages, "message")}`,
        },
        { label: "Failed logins", value: failedLogins(failures) },
        {
          label: "Database",
          value:
            `${formatBytes(sizes[0] + sizes[1])}${sizes[1] ? ` (WAL ${formatBytes(sizes[1])})` : ""} · ` +
            `invalidation log at #${services.store.invalidations.lastId()}, ${caches.remoteInvalidations} ` +
            "applied here",
        },
      ];
    },
    async dependents(accountId) {
      const id = decodeId(accountId);
      return id === undefined ? {} : await services.accounts.dependents(id);
    },
    async storedBytes(accountId) {
      const id = decodeId(accountId);
      return id === undefined ? 0 : await services.blobs.usedBytes(id);
    },
    actions: () => Promise.resolve(ACTION_INFOS),
    // The server's own x:Action code, run here: its invalidation events reach a running server
    // through the log at its next request.
    runAction: (name) => client.action(name),
    checkDatabase: ({ repair }) => services.store.integrity.check({ repair }),
  };
}

/** The backend over a server, given the CLI's remote client and how to reach the server directly. */
export function remoteBackend(client: TuiClient, access: RemoteAccess): AdminBackend {
  return {
    mode: "remote",
    location: access.url,
    client,
    facts: () => remoteFacts(access),
    actions: () => remoteActions(client),
    runAction: (name) => client.action(name),
  };
}

/** Before each operation, applies what other processes (the server) wrote, so the UI never shows stale data. */
function synced(client: TuiClient, services: Services): TuiClient {
  const sync = async () => await services.sync();
  return {
    local: client.local,
    get: (type, id) => sync().then(() => client.get(type, id)),
    query: (type, where, fields) => sync().then(() => client.query(type, where, fields)),
    create: (type, fields) => sync().then(() => client.create(type, fields)),
    update: (type, id, patch) => sync().then(() => client.update(type, id, patch)),
    delete: (type, id) => sync().then(() => client.delete(type, id)),
    action: (name) => sync().then(() => client.action(name)),
    ...(client.report ? { report: (name, args) => sync().then(() => client.report!(name, args)) } : {}),
    schema: () => client.schema(),
  };
}
