/**
 * Cyrus's copy of the full-text corpus (scripts/bench/text_corpus.ts): the same generated messages
 * (`generatedMessage(i)`), in the same mailboxes (seven in ten in the Inbox, two in Archive, one in
 * Sent: `roleOf(i)`), with the same flags (`\Seen` for two in three), appended over IMAP as the bench
 * user and then indexed by `squatter`, so Xapian answers the text queries rather than a scan of
 * unindexed messages, and the index compacted. The internal dates rise by one second per message
 * from 1 Nov 2026, so newest first is the reverse of the corpus order, as on Postern (whose import
 * gave most of them the same second, and orders those by id).
 *
 * Kept under the Cyrus cache folder (scripts/bench/cyrus.ts) as `corpus-<count>-v2-g<generator>` (scripts/bench/email_store.ts, `GENERATOR_VERSION`), with a `complete`
 * marker once indexed; a directory without it is built again.
 *
 *   deno run -A scripts/bench/cyrus_corpus.ts --count 10000
 */
import { parseArgs } from "node:util";
import {
  cyrusCacheDir,
  type CyrusInstall,
  type CyrusInstance,
  cyrusTool,
  installCyrus,
  startCyrus,
} from "./cyrus.ts";
import { generatedMessage, GENERATOR_VERSION, PASSWORD, USER } from "./email_store.ts";
import { ImapWire, quote } from "./imap_wire.ts";
import { exists, roleOf } from "./text_corpus.ts";

/** The Cyrus folder of each role (altnamespace: the user's folders sit beside INBOX). */
const FOLDERS = { inbox: "INBOX", archive: "Archive", sent: "Sent" } as const;
const FIRST_DATE = Date.UTC(2026, 10, 1);
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The data directory of Cyrus's corpus of `count` messages, built (loaded and indexed) first when absent. */
export async function cyrusCorpus(
  install: CyrusInstall,
  count: number,
  options: { log?: (line: string) => void } = {},
): Promise<string> {
  const log = options.log ?? console.log;
  const dir = `${cyrusCacheDir()}/corpus-${count}-v2-g${GENERATOR_VERSION}`;
  if (await exists(`${dir}/complete`)) return dir;
  await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  const started = performance.now();
  const cyrus = await startCyrus(install, dir);
  try {
    await createFolders(cyrus);
    await append(cyrus, count, log);
    const appended = performance.now();
    // -i: incremental (all that is not indexed yet); -u: every mailbox of the user.
    await cyrusTool(cyrus, "squatter", ["-i", "-u", USER]);
    // Then compacted into one database, as a Cyrus in service is (its docs schedule `squatter -z` in
    // cyrus.conf's EVENTS): 160 → 131 MB at 10,000 messages, ~5% less CPU per request (within noise).
    await cyrusTool(cyrus, "squatter", ["-z", "t1", "-t", "t1", "-u", USER]);
    log(
      `Cyrus corpus of ${count.toLocaleString("en-US")} messages: appended in ${
        ((appended - started) / 1000).toFixed(0)
      } s, indexed and compacted by squatter in ${
        ((performance.now() - appended) / 1000).toFixed(0)
      } s (${dir})`,
    );
  } finally {
    await cyrus.stop();
  }
  await Deno.writeTextFile(`${dir}/complete`, new Date().toISOString());
  return dir;
}

/** The bench user's mailbox and its Archive and Sent folders (with their special use), as the admin. */
async function createFolders(cyrus: CyrusInstance): Promise<void> {
  const wire = await ImapWire.openPlain(cyrus.imapPort);
  try {
    await ok(wire, `LOGIN admin ${quote("unchecked")}`);
    await ok(wire, `CREATE user/${USER}`);
    await ok(wire, `CREATE user/${USER}/Archive (USE (\\Archive))`);
    await ok(wire, `CREATE user/${USER}/Sent (USE (\\Sent))`);
  } finally {
    wire.close();
  }
}

/** APPENDs messages 0…count-1 as the bench user, one command at a time. */
async function append(cyrus: CyrusInstance, count: number, log: (line: string) => void): Promise<void> {
  const wire = await ImapWire.openPlain(cyrus.imapPort);
  try {
    await ok(wire, `LOGIN ${quote(USER)} ${quote(PASSWORD)}`);
    for (let i = 0; i < count; i++) {
      const flags = i % 3 ? "(\\Seen)" : "()";
      await ok(wire, `APPEND ${FOLDERS[roleOf(i)]} ${flags} "${internalDate(FIRST_DATE + i * 1000)}"`, {
        literal: generatedMessage(i),
      });
      if (i % 5000 === 4999) log(`  ${(i + 1).toLocaleString("en-US")} messages appended`);
    }
  } finally {
    wire.close();
  }
}

/** An IMAP date-time (RFC 3501 section 9), in UTC. */
function internalDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${two(d.getUTCHours())}:${
    two(d.getUTCMinutes())
  }:${two(d.getUTCSeconds())} +0000`;
}

async function ok(wire: ImapWire, command: string, options: { literal?: Uint8Array } = {}): Promise<void> {
  const answer = await wire.command(command, options);
  if (answer.status !== "OK") throw new Error(`Cyrus answered ${command.split(" ")[0]} with ${answer.text}`);
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { count: { type: "string", default: "10000" } } });
  console.log(await cyrusCorpus(await installCyrus(), Number(values.count)));
}
