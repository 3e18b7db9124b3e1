/**
 * Helpers of the full-text index tests (search_index_test.ts, search_rebuild_test.ts): services on a
 * database file of their own with a bootstrapped admin, a message imported into its Inbox, a text
 * query, and the index's rows read on a connection of their own.
 */
import { DatabaseSync } from "node:sqlite";
import { bootstrap } from "../src/directory/mod.ts";
import { openServices, type Services } from "../src/services.ts";
import { distinctMessage } from "./email_helpers.ts";

/** The admin and its Inbox. */
export interface SearchContext {
  admin: number;
  inbox: number;
}

/**
 * Runs `body` with services on `dir` (a new temporary directory, removed after, by default), the
 * admin bootstrapped on first use; `searchIndexWorker` as the server has it.
 */
export async function withSearchServices(
  body: (services: Services, ctx: SearchContext) => Promise<void>,
  options: { searchIndexWorker?: boolean; dir?: string } = {},
): Promise<void> {
  const dir = options.dir ?? await Deno.makeTempDir();
  const services = await openServices({
    databasePath: `${dir}/postern.db`,
    encryptionKey: new Uint8Array(64),
    hashWorkers: 1,
    searchIndexWorker: options.searchIndexWorker,
  });
  try {
    if ((await services.accounts.query({})).length === 0) {
      await bootstrap(services, { domain: "example.org", adminPassword: "admin password for tests" });
    }
    const [admin] = await services.accounts.query({});
    const inbox = (await services.mailboxes.list(admin, admin)).find((m) => m.role === "inbox")!.id;
    await body(services, { admin, inbox });
  } finally {
    await services.close();
    if (!options.dir) await Deno.remove(dir, { recursive: true });
  }
}

/** Imports a distinct message with `subject` (its body says "quarterly figures"); its email id. */
export async function importText(services: Services, ctx: SearchContext, subject: string): Promise<number> {
  const upload = await services.blobs.upload(ctx.admin, ctx.admin, {
    data: distinctMessage(subject, "quarterly figures"),
    type: "message/rfc822",
  });
  const [result] = await services.emails.import(ctx.admin, ctx.admin, [
    { blobId: upload.blobId, mailboxIds: [ctx.inbox], keywords: [] },
  ]);
  if ("type" in result) throw new Error(JSON.stringify(result));
  return result.id;
}

/** The ids a text query finds, in id order. */
export async function search(services: Services, admin: number, text: string): Promise<number[]> {
  const result = await services.emails.query(admin, admin, {
    filter: { condition: { text: [text] } },
    sort: [{ property: "receivedAt", isAscending: false }],
    position: 0,
    limit: 50,
    collapseThreads: false,
    calculateTotal: false,
  });
  return [...result.ids].sort((a, b) => a - b);
}

/** The rows of the full-text index matching an FTS5 expression, read on a connection of its own. */
export function indexedIds(services: Services, expression: string): number[] {
  const db = new DatabaseSync(services.store.path, { readOnly: true });
  try {
    return db.prepare("SELECT rowid AS id FROM email_search WHERE email_search MATCH ? ORDER BY rowid")
      .all(expression).map((r) => Number(r.id));
  } finally {
    db.close();
  }
}
