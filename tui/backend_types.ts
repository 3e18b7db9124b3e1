/** The shapes the admin UI works with, apart from the two backends that implement them. */
import type { WireObject } from "../src/directory/mod.ts";
import type { RecordCheck } from "../src/dns/mod.ts";
import type { DnsRecord } from "../src/model/dns_records.ts";
import { ACTIONS } from "../src/model/actions.ts";

/** The object operations of the CLI's ObjectClient that the UI uses (it satisfies this shape). */
export interface TuiClient {
  readonly local: boolean;
  get(type: string, id: string): Promise<WireObject>;
  query(type: string, where: Record<string, unknown>, fields?: string[]): Promise<WireObject[]>;
  create(type: string, fields: WireObject): Promise<WireObject>;
  update(type: string, id: string, patch: WireObject): Promise<WireObject>;
  /** Runs an action (x:Action) by its @type; returns what was done, in words. */
  action(name: string): Promise<string>;
  /** Runs an action with arguments that answers with data (DnsRecords); the action object. */
  report?(name: string, args: Record<string, unknown>): Promise<WireObject>;
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
  /** Accounts whose used bytes differ from a recount. */
  usage: { detail: string }[];
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
  /** Looks up a domain's records (`postern dns check`) through the UI's DNS servers, when it has them. */
  checkDns?(domain: string, records: readonly DnsRecord[]): Promise<RecordCheck[]>;
  /** SQLite's integrity check and the dangling-reference check (local mode). */
  checkDatabase?(options: { repair: boolean }): Promise<DatabaseReport>;
}

/** The actions, as the UI lists them (one list with the server and the CLI: src/model/actions.ts). */
export const ACTION_INFOS: ActionInfo[] = ACTIONS.map(({ name, description, confirm }) => ({
  name,
  description,
  ...(confirm ? { confirm } : {}),
}));
