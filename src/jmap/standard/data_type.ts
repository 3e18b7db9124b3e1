/** What a JMAP data type provides so the generic /get, /set, /changes, /query, /queryChanges work. */
import type { MethodContext } from "../engine.ts";
import type { Comparator, Filter } from "../types.ts";

/** A wire object. */
export type JmapObject = Record<string, unknown>;

/** The /get answer from every visible object: those asked for (all when ids is null) and the ids not found. */
export function pickByIds(
  all: JmapObject[],
  ids: string[] | null,
): { list: JmapObject[]; notFound: string[] } {
  if (ids === null) return { list: all, notFound: [] };
  const byId = new Map(all.map((o) => [o.id as string, o]));
  return {
    list: ids.flatMap((id) => byId.has(id) ? [byId.get(id)!] : []),
    notFound: ids.filter((id) => !byId.has(id)),
  };
}

/** The window a /query asks for (RFC 8620 §5.5). */
export interface QueryWindow {
  filter: Filter | null;
  sort: Comparator[];
  position: number;
  anchor: string | null;
  anchorOffset: number;
  limit: number | null;
  calculateTotal: boolean;
  /** Type-specific arguments (see DataType.queryArguments), as sent. */
  arguments?: Record<string, unknown>;
}

/** A /query answer before the engine adds states. */
export interface QueryOutcome {
  ids: string[];
  position: number;
  total?: number;
  /**
   * The state the ids describe, when the type read both in one snapshot; otherwise the method reads
   * the state before the query (an older state only makes a client re-sync what it already has).
   */
  queryState?: string;
}

/** A data type: its storage behind the standard methods. */
export interface DataType {
  /** Method prefix, e.g. "x:Account". */
  name: string;
  capability: string;
  /** Type name in the change log. */
  changeType: string;
  /** States and changes are kept per account (mail data), not directory-wide (management). */
  perAccount?: boolean;
  /** A singleton has the one id "singleton": create and destroy are refused. */
  singleton?: boolean;
  /** The wire id of a change-log object id. */
  wireId(objectId: number): string;
  /** Every property /get can return. */
  properties: readonly string[];
  /** Properties holding ids, where `#creationId` references are resolved in /set. */
  idProperties: readonly string[];
  /**
   * Properties that change without the object being written (Mailbox counts): /changes then answers
   * `updatedProperties`, this list when every change in its range was of these only, else null
   * (RFC 8621 §2.2).
   */
  countProperties?: readonly string[];
  /** What a top-level `null` in an update resets a non-nullable property to (RFC 8620 §5.3). */
  defaults: Readonly<Record<string, unknown>>;
  /** Whose changes the caller may see in /changes: an account id, or undefined for all. */
  changeOwner?(ctx: MethodContext): number | undefined;
  /** Checks the accountId argument; throws MethodError (accountNotFound, forbidden…). */
  checkAccount(ctx: MethodContext, accountId: unknown): Promise<string>;
  /** Objects by id (all visible ones when ids is null). */
  get(ctx: MethodContext, ids: string[] | null): Promise<{ list: JmapObject[]; notFound: string[] }>;
  /** Creates an object; returns the created object (server-set properties included). */
  create?(ctx: MethodContext, object: JmapObject): Promise<JmapObject>;
  /** Updates the given top-level properties; returns changed server-set properties or null. */
  update?(ctx: MethodContext, id: string, changes: JmapObject): Promise<JmapObject | null>;
  destroy?(ctx: MethodContext, id: string): Promise<void>;
  /** Filter condition names this type understands, with how each is evaluated in memory. */
  conditions: Record<string, (object: JmapObject, value: unknown) => boolean>;
  /** Sortable properties. */
  sortable: readonly string[];
  /** Arguments of /set beyond RFC 8620's (e.g. Mailbox's onDestroyRemoveEmails); see ctx.arguments. */
  setArguments?: Readonly<Record<string, "boolean" | "string" | "number">>;
  /** Arguments of /query beyond RFC 8620's (e.g. Mailbox's sortAsTree); they reach `query`. */
  queryArguments?: readonly string[];
  /** A faster query than the generic in-memory one (e.g. pushed down to SQL). */
  query?(ctx: MethodContext, window: QueryWindow): Promise<QueryOutcome>;
}
