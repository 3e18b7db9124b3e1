/**
 * What the screens act on: the CLI's object client (the same operations on the local database or on
 * a server) plus what only one mode can do — counting what a delete removes and checking the
 * database in local mode, reaching the server's health and metrics in remote mode — and actions.
 */
import type { WireObject } from "../src/directory/mod.ts";
import { decodeId } from "../src/model/ids.ts";
import { ACTIONS } from "../src/model/actions.ts";
import type { Services } from "../src/services.ts";
import { formatBytes } from "./format.ts";
import { count } from "./list.ts";
import { type RemoteAccess, remoteActions, remoteFacts } from "./remote.ts";

/** The object operations of the CLI's ObjectClient that the UI uses (it satisfies this shape). */
export interface TuiClient {
  readonly local: boolean;
  get(type: string, id: string): Promise<WireObject>;
  query(type: string, where: Record<string, unknown>, fields?: string[]): Promise<WireObject[]>;
  create(type: string, fields: WireObject): Promise<WireObject>;
  update(type: string, id: string, patch: WireObject): Promise<WireObject>;
  /** Runs an action (x:Action) by its @type; returns what was done, in words. */
  action(name: string): Promise<string>;
  delete(type: string, id: string): Promise<WireObject>;
  schema(): Promise<Record<string, unknown>[]>;
}

/** One line of the dashboard. */
export interface Fact {
  label: string;
  value: string;
}

/** An action the UI can run, e.g. InvalidateCaches. */
export interface ActionInfo {
  name: string;
  description: string;
  /** Asked before running, when the action has consequences worth a second thought. */
  confirm?: string;
}

/** The outcome of a database check. */
export interface DatabaseReport {
  ok: boolean;
  integrity: string[];
  dangling: { detail: string }[];
  repaired: number;
}

/** The UI's view of where it works. */
export interface AdminBackend {
  readonly mode: "local" | "remote";
  /** The data directory or the server URL. */
  readonly location: string;
  readonly client: TuiClient;
  /** Dashboard lines beyond the object counts. */
  facts(): Promise<Fact[]>;
  /** What deleting the account removes, by kind, when this mode can count it. */
  dependents?(accountId: string): Promise<Record<string, number>>;
  /** Bytes the account stores (what its maxDiskQuota counts), when this mode can count it. */
  storedBytes?(accountId: string): Promise<number>;
  actions(): Promise<ActionInfo[]>;
  /** Runs an action; returns what was done, in words. */
  runAction(name: string): Promise<string>;
  /** SQLite's integrity check and the dangling-reference check (local mode). */
  checkDatabase?(options: { repair: boolean }): Promise<DatabaseReport>;
}

const HOUR_MS = 3_600_000;

/** "3 in the last hour (wrong passwords, every process)". */
export function failedLogins(count: number): string {
  return `${count} in the last hour (wrong passwords, at the server and here)`;
}

/** The actions, as the UI lists them (one list with the server and the CLI: src/model/actions.ts). */
export const ACTION_INFOS: ActionInfo[] = ACTIONS.map(({ name, description, confirm }) => ({
  name,
  description,
  ...(confirm ? { confirm } : {}),
}));

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
    schema: () => client.schema(),
  };
}
