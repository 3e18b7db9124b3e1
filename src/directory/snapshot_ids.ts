/** Keeping ids across data directories: `apply` of a snapshot creates each object under its old id. */
import { decodeId, type SequencedTable, type Store } from "./deps.ts";

const TABLES: Readonly<Record<string, SequencedTable>> = {
  Domain: "domains",
  Account: "accounts",
  ApiKey: "credentials",
  AppPassword: "credentials",
  OAuthClient: "oauth_clients",
};

/**
 * Makes `wireId` the id of the next object of the type, when that id was never used there; false
 * otherwise (the object then gets a new id). Another writer may still take it first, so the caller
 * compares the id it got.
 */
export async function reserveId(store: Store, typeName: string, wireId: string): Promise<boolean> {
  const table = Object.hasOwn(TABLES, typeName) ? TABLES[typeName] : undefined;
  const id = decodeId(wireId);
  if (!table || id === undefined) return false;
  return await store.transaction(() => store.idSequences.advanceTo(table, id));
}
