/**
 * What keeping IMAP's view in the store (migrations/041_imap.ts: UIDs and MODSEQ by triggers) costs
 * the inbound path, measured in-process on one database file:
 *
 * 1. Delivery: messages of about 4 KB delivered one by one through InboundDelivery (the SMTP path
 *    after DATA): messages per second.
 * 2. Import: the same messages imported 50 per Email/import (EmailService.import): messages per second.
 * 3. Flag: $seen set and cleared on each email (EmailService.update, one transaction each): updates per
 *    second.
 *
 * Each figure is the median of `--rounds` rounds, each on a fresh data directory. With `--ab`, the
 * rounds alternate between the schema as it is and the same schema without IMAP's triggers and
 * indexes (dropped after the migrations ran), in one process, so a loaded machine's noise falls on
 * both alike; the ratio is the cost of keeping IMAP's view. Without it, run it on two trees (before
 * and after a change) and compare.
 *
 *   deno run -A scripts/bench/imap_store_cost.ts [--messages 1000] [--rounds 5] [--ab]
 */
import { parseArgs } from "node:util";
import { resolveConfig } from "../../src/config/mod.ts";
import { bootstrap } from "../../src/directory/mod.ts";
import { openData } from "../../src/server.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "1000" },
    rounds: { type: "string", default: "5" },
    ab: { type: "boolean", default: false },
  },
});
const COUNT = Number(values.messages);
const ROUNDS = Number(values.rounds);
const encoder = new TextEncoder();

function message(i: number): Uint8Array<ArrayBuffer> {
  const body = `Line ${i} of a message about the weather, the harvest and the fair.\r\n`.repeat(60);
  return encoder.encode(
    `From: sender${i % 17}@example.net\r\nTo: bench@example.org\r\nSubject: Bench message ${i}\r\n` +
      `Message-ID: <m${i}.${crypto.randomUUID()}@example.net>\r\nDate: Mon, 7 Dec 2026 00:00:00 +0000\r\n\r\n${body}`,
  );
}

/** IMAP's triggers and indexes (store/migrations/041_imap.ts), dropped for the "without" rounds. */
const WITHOUT_IMAP = `
  DROP TRIGGER imap_membership_in; DROP TRIGGER imap_membership_out; DROP TRIGGER imap_keyword_on;
  DROP TRIGGER imap_keyword_off; DROP INDEX email_mailboxes_uid; DROP INDEX email_mailboxes_modseq;
`;

type Figures = { deliver: number; importRate: number; flag: number };

async function round(withoutImap = false): Promise<Figures> {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-cost-" });
  const { services } = await openData(
    resolveConfig({ data: dataDir }, { POSTERN_ADMIN_PASSWORD: "x".repeat(24) }),
  );
  try {
    await bootstrap(services, { domain: "example.org", adminPassword: "bench admin password long enough" });
    if (withoutImap) services.store.unsafeExec(WITHOUT_IMAP);
    const domain = await services.domains.getByName("example.org");
    const user = await services.accounts.create({ type: "User", name: "bench", domainId: domain!.id });
    const inbox = (await services.store.mailboxes.list(user.id)).find((m) => m.role === "inbox")!;
    let started = performance.now();
    const check = await services.inbound.checkRecipient("bench@example.org");
    if (!check.accepted) throw new Error(`bench@example.org is refused: ${check.detail}`);
    for (let i = 0; i < COUNT; i++) {
      await services.inbound.deliver({
        mailFrom: "sender@example.net",
        recipients: [check.recipient],
        message: message(i),
        received: () => "Received: from bench by example.org; Mon, 7 Dec 2026 00:00:00 +0000\r\n",
      });
    }
    const deliver = COUNT / ((performance.now() - started) / 1000);
    const blobIds: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      blobIds.push(
        (await services.blobs.upload(user.id, user.id, { data: message(COUNT + i), type: "message/rfc822" }))
          .blobId,
      );
    }
    started = performance.now();
    for (let i = 0; i < COUNT; i += 50) {
      await services.emails.import(
        user.id,
        user.id,
        blobIds.slice(i, i + 50).map((blobId) => ({ blobId, mailboxIds: [inbox.id], keywords: [] })),
      );
    }
    const importRate = COUNT / ((performance.now() - started) / 1000);
    const ids = (await services.store.emails.inMailbox(inbox.id)).map((e) => e.id).slice(0, COUNT);
    started = performance.now();
    for (const id of ids) await services.emails.update(user.id, user.id, id, { keywords: ["$seen"] });
    for (const id of ids) await services.emails.update(user.id, user.id, id, { keywords: [] });
    const flag = (2 * ids.length) / ((performance.now() - started) / 1000);
    return { deliver, importRate, flag };
  } finally {
    await services.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (results: Figures[]) => ({
  deliverPerSecond: Math.round(median(results.map((r) => r.deliver))),
  importPerSecond: Math.round(median(results.map((r) => r.importRate))),
  flagUpdatesPerSecond: Math.round(median(results.map((r) => r.flag))),
});
const withImap: Figures[] = [];
const without: Figures[] = [];
for (let i = 0; i < ROUNDS; i++) {
  if (values.ab) without.push(await round(true));
  withImap.push(await round());
}
const figures = summary(withImap);
if (!values.ab) console.log(JSON.stringify({ messages: COUNT, rounds: ROUNDS, ...figures }));
else {
  const base = summary(without);
  console.log(JSON.stringify({
    messages: COUNT,
    rounds: ROUNDS,
    withoutImap: base,
    withImap: figures,
    ratio: Object.fromEntries(
      Object.entries(figures).map((
        [k, v],
      ) => [k, Math.round((v / base[k as keyof typeof base]) * 100) / 100]),
    ),
  }));
}
