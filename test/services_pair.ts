/**
 * Two processes' worth of services on one database file (each with its own caches, as two servers or a
 * server and the CLI), with one user account: the setting of the cross-process coherence tests.
 */
import { openServices, type Services } from "../src/services.ts";
import { PASSWORD } from "./helpers.ts";

/** Services A and B on one file, and the account made through A. */
export interface ServicesPair {
  a: Services;
  b: Services;
  dir: string;
  accountId: number;
  domainId: number;
}

/** Opens the pair on a new temporary database (`prefix` names its directory) with user "u". */
export async function servicesPair(prefix: string): Promise<ServicesPair> {
  const dir = await Deno.makeTempDir({ prefix });
  const key = crypto.getRandomValues(new Uint8Array(64));
  const a = await openServices({ databasePath: `${dir}/postern.db`, encryptionKey: key, hashWorkers: 1 });
  const b = await openServices({ databasePath: `${dir}/postern.db`, encryptionKey: key, hashWorkers: 1 });
  const domain = await a.domains.create({ name: "example.org" });
  const account = await a.accounts.create({
    type: "User",
    name: "u",
    domainId: domain.id,
    password: PASSWORD,
  });
  await b.sync();
  return { a, b, dir, accountId: account.id, domainId: domain.id };
}

/** Closes both and removes the database. */
export async function closePair(p: ServicesPair): Promise<void> {
  await p.a.close();
  await p.b.close();
  await Deno.remove(p.dir, { recursive: true });
}
