/**
 * A cached corpus for the full-text figures: a data directory holding the bench user with `count`
 * generated messages (scripts/bench/email_store.ts), seven in ten in the Inbox, two in the Archive,
 * one in Sent. Building 100,000 messages takes minutes, so the directory is kept under the cache
 * folder (`--cache`, else $XDG_CACHE_HOME or ~/.cache, `postern-bench/text-<count>-<schema>-g<generator>`)
 * and reused. The name holds a hash of the migrations and the generator's version (scripts/bench/schema_key.ts): a branch that numbered
 * its migrations otherwise once left a corpus main could not upgrade. A directory left half-built has
 * no `complete` marker and is built again.
 *
 *   deno run -A scripts/bench/text_corpus.ts --count 100000 [--cache DIR]
 */
import { parseArgs } from "node:util";
import {
  ADMIN_PASSWORD,
  corpusKey,
  DOMAIN,
  generatedMessage,
  PASSWORD,
  USER,
  withServices,
} from "./email_store.ts";
import { bootstrapData } from "./setup_data.ts";

/** The default cache folder of bench corpora. */
export function defaultCacheDir(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/postern-bench`;
}

/** The mailbox role of generated message `i`: Inbox 7 in 10, Archive 2, Sent 1. */
export function roleOf(i: number): "inbox" | "archive" | "sent" {
  const r = i % 10;
  return r < 7 ? "inbox" : r < 9 ? "archive" : "sent";
}

/** The data directory of a corpus of `count` messages, built first when the cache has none. */
export async function textCorpus(
  count: number,
  options: { cache?: string; log?: (line: string) => void } = {},
): Promise<string> {
  const log = options.log ?? console.log;
  const dir = `${options.cache ?? defaultCacheDir()}/text-${count}-${await corpusKey()}`;
  const marker = `${dir}/complete`;
  if (await exists(marker)) return `${dir}/data`;
  await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  await Deno.mkdir(dir, { recursive: true });
  const dataDir = `${dir}/data`;
  const started = performance.now();
  await bootstrapData(dataDir, { domain: DOMAIN, adminPassword: ADMIN_PASSWORD });
  await withServices(dataDir, async (services) => {
    const domain = await services.domains.getByName(DOMAIN);
    const { id } = await services.accounts.create({
      type: "User",
      name: USER,
      domainId: domain!.id,
      password: PASSWORD,
    });
    const boxes = await services.mailboxes.list(id, id);
    const byRole = (role: string) => boxes.find((m) => m.role === role)!.id;
    const mailbox = { inbox: byRole("inbox"), archive: byRole("archive"), sent: byRole("sent") };
    for (let start = 0; start < count; start += 500) {
      const items = [];
      for (let i = start; i < Math.min(count, start + 500); i++) {
        const upload = await services.blobs.upload(id, id, {
          data: generatedMessage(i),
          type: "message/rfc822",
        });
        items.push({
          blobId: upload.blobId,
          mailboxIds: [mailbox[roleOf(i)]],
          keywords: i % 3 ? ["$seen"] : [],
        });
      }
      for (const result of await services.emails.import(id, id, items)) {
        if ("type" in result) throw new Error(`import failed: ${JSON.stringify(result)}`);
      }
      if ((start / 500) % 20 === 19) log(`  ${(start + 500).toLocaleString("en-US")} messages`);
    }
  });
  await Deno.writeTextFile(marker, new Date().toISOString());
  log(
    `Built a corpus of ${count.toLocaleString("en-US")} messages in ${
      ((performance.now() - started) / 1000).toFixed(0)
    } s (${dir})`,
  );
  return dataDir;
}

/** Whether `path` exists (a cached corpus, an unpacked package). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { count: { type: "string", default: "10000" }, cache: { type: "string" } },
  });
  console.log(await textCorpus(Number(values.count), { cache: values.cache }));
}
