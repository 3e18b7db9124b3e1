/**
 * Enqueue cost per EmailSubmission (issue 23 target: ≤ 2 ms p50): SubmissionService.create of a
 * ~10 KB draft to one recipient elsewhere, which records it and queues it unsigned in the
 * submission's transaction (the delivery worker signs it before its first attempt), against the
 * same create held for an hour (recorded, not queued) as the baseline, interleaved; and the queue's
 * insert alone (store.queue.enqueue of the signed bytes in its own transaction) and DKIM signing
 * alone (Ed25519 + RSA-2048, what the worker now does once per message), to split the difference.
 * Medians of `ROUNDS` each, after a warm-up, on a temporary data directory with the default
 * synchronous=NORMAL.
 * Usage: deno run -A scripts/bench/queue_enqueue.ts [ROUNDS]
 */
import { resolveConfig } from "../../src/config/mod.ts";
import { bootstrap } from "../../src/directory/mod.ts";
import { DkimSigner } from "../../src/mail/mod.ts";
import { openData } from "../../src/server.ts";

const ROUNDS = Number(Deno.args[0] ?? 300);
const dir = await Deno.makeTempDir({ prefix: "postern-bench-enqueue-" });
const { services } = await openData(
  resolveConfig({ data: dir }, { POSTERN_ADMIN_PASSWORD: "bench admin password" }),
  {
    hashWorkers: 1,
  },
);
try {
  const first = await bootstrap(services, { domain: "example.org", adminPassword: "bench admin password" });
  const created = await services.objects.create("account/user", {
    name: "alice",
    domainId: String(first.domain.id),
    credentials: { "0": { "@type": "Password", secret: "correct horse battery staple" } },
  }, "system");
  const alice = (await services.accounts.idByLogin("alice@example.org"))!;
  void created;
  const [identity] = await services.identities.list(alice, alice);
  const drafts = (await services.mailboxes.list(alice, alice)).find((m) => m.role === "drafts")!;
  const body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(170);
  const draft = async (i: number) => {
    const message = new TextEncoder().encode(
      `From: alice@example.org\r\nTo: friend@elsewhere.example\r\nSubject: Bench ${i}\r\n` +
        `Message-ID: <bench-${i}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n${body}\r\n`,
    );
    const upload = await services.blobs.upload(alice, alice, { data: message, type: "message/rfc822" });
    const [email] = await services.emails.import(alice, alice, [{
      blobId: upload.blobId,
      mailboxIds: [drafts.id],
      keywords: ["$draft"],
    }]);
    return (email as { id: number }).id;
  };
  const timed = async (work: () => Promise<unknown>) => {
    const start = performance.now();
    await work();
    return performance.now() - start;
  };
  const now: number[] = [];
  const held: number[] = [];
  const insert: number[] = [];
  const signing: number[] = [];
  const signer = new DkimSigner(services.dkimKeys, () => {});
  const unsigned = (await services.store.queue.content(
    (await services.submissions.create(alice, alice, { identityId: identity.id, emailId: await draft(-1) }))
      .id,
  )) ?? new Uint8Array(10_000);
  const signed = await signer.sign(unsigned);
  for (let i = 0; i < ROUNDS + 20; i++) {
    const emailIds = [await draft(2 * i), await draft(2 * i + 1)];
    const a = () =>
      services.submissions.create(alice, alice, { identityId: identity.id, emailId: emailIds[0] });
    const b = () =>
      services.submissions.create(alice, alice, {
        identityId: identity.id,
        emailId: emailIds[1],
        sendAt: Date.now() + 3_600_000,
      });
    const c = () =>
      services.store.transaction(() =>
        services.store.queue.enqueue({
          accountId: alice,
          submissionId: null,
          kind: "submission",
          mailFrom: "alice@example.org",
          message: signed,
          recipients: ["friend@elsewhere.example"],
          createdAt: Date.now(),
        })
      );
    const order = i % 2 ? [[a, now], [b, held]] as const : [[b, held], [a, now]] as const;
    const samples = [];
    for (const [work, into] of order) samples.push([await timed(work), into] as const);
    const queued = await timed(c);
    const signedAlone = await timed(() => signer.sign(unsigned));
    if (i < 20) continue; // warm-up
    signing.push(signedAlone);
    for (const [ms, into] of samples) into.push(ms);
    insert.push(queued);
  }
  const p = (xs: number[], q: number) => [...xs].sort((x, y) => x - y)[Math.floor(q * (xs.length - 1))];
  const line = (name: string, xs: number[]) =>
    console.log(`${name.padEnd(52)} p50 ${p(xs, 0.5).toFixed(3)} ms  p90 ${p(xs, 0.9).toFixed(3)} ms`);
  console.log(`Enqueue cost per EmailSubmission, ${ROUNDS} rounds, ~10 KB message, one remote recipient`);
  line("create, sent now (record + enqueue unsigned)", now);
  line("create, held (record only; baseline)", held);
  line("queue insert alone (store.queue.enqueue, own txn)", insert);
  line("DKIM signing alone (Ed25519 + RSA-2048; in the worker)", signing);
  console.log(`difference of the medians (enqueue): ${(p(now, 0.5) - p(held, 0.5)).toFixed(3)} ms`);
  console.log(`target: enqueue ≤ 2 ms p50: ${p(now, 0.5) <= 2 ? "met" : "NOT met"} (create, sent now)`);
  console.log(`load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
} finally {
  await services.close();
  await Deno.remove(dir, { recursive: true });
}
