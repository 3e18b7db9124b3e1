/**
 * The Email store figures (issue: import ≥ 1,500 messages/s; on a mailbox of 100,000 messages,
 * Email/query + Email/get of a page p50 < 10 ms and p99 < 30 ms; a full-text query p50 < 50 ms;
 * RSS at rest reported).
 *
 * 11. Import: 10,000 generated messages of about 10 KB, each uploaded (POST /jmap/upload, four
 *     connections at once, the session's maxConcurrentUpload) and imported 50 per Email/import, over
 *     HTTP against `postern serve`, in five rounds after 200 unmeasured messages
 *     (scripts/bench/import_rounds.ts); messages per second of wall time, upload and import
 *     together, the median round; and the server's CPU per message, which the neighbours on a
 *     shared machine move far less than the rate.
 * 12. The mailbox then grows to 100,000 messages (the rest imported in-process through the same
 *     service, on the database the server runs on), and one keep-alive connection asks, one request at a
 *     time, Email/query (inMailbox, newest first, limit 50) with Email/get of those 50 (list
 *     properties, by result reference) in the same request: p50 and p99 (and, for information, the
 *     same page from random positions).
 * 13. A full-text Email/query (`text` of one or two words, 50 newest) on that mailbox: p50.
 * 14. The server's RSS at rest after all that (information).
 *
 *   deno run -A scripts/bench/email_store.ts [--messages 10000] [--mailbox 100000] [--requests 400]
 */
import { parseArgs } from "node:util";
import { resolveConfig } from "../../src/config/mod.ts";
import { openData } from "../../src/server.ts";
import type { Services } from "../../src/services.ts";
import { httpRequest, RawConnection } from "./http_client.ts";
import { IMPORT_BATCH, importMedians, importRounds, UPLOADERS } from "./import_rounds.ts";
import { ProcessGroup, type Server } from "./processes.ts";
import { type Figure, ms, printSummary, quantile } from "./report.ts";
import { schemaKey } from "./schema_key.ts";
import { basic, bootstrapData } from "./setup_data.ts";

/** The bench mail user, its domain and passwords (scripts/bench/compression.ts uses them too). */
export const DOMAIN = "example.org";
export const USER = "reader";
export const PASSWORD = "bench password that is long enough";
export const ADMIN_PASSWORD = "bench admin password that is long enough";
const CORE = "urn:ietf:params:jmap:core";
const MAIL = "urn:ietf:params:jmap:mail";
/** Figure 11's rounds: its figure is the median round (scripts/bench/import_rounds.ts). */
const IMPORT_ROUNDS = 5;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The load averages, for the line of a figure. */
function loadAverage(): string {
  return Deno.loadavg().map((l) => l.toFixed(1)).join(" ");
}

/**
 * The version of {@link generatedMessage}'s output, part of the name of every cached corpus built from
 * it (scripts/bench/schema_key.ts, `corpusKey`): bump it whenever the generator's messages change.
 * Version 2 made the rarer words distinct and added the rare ones (version 1 had 60 "rare" words, each
 * in ~96% of the messages).
 */
export const GENERATOR_VERSION = 2;

/**
 * The key of a cached corpus of generated messages: the schema's (scripts/bench/schema_key.ts) and the
 * generator's version, so a corpus built by an older generator is never taken for the current one.
 */
export async function corpusKey(): Promise<string> {
  return `${await schemaKey()}-g${GENERATOR_VERSION}`;
}

const SYLLABLES = ["ka", "lo", "mi", "ren", "sto", "qua", "vel", "dor", "ish", "zen", "pra", "tul"];

/** Syllables of `n` in base 12, `count` of them, least significant first. */
function syllablesOf(n: number, count: number): string {
  let word = "";
  for (let k = 0; k < count; k++, n = Math.floor(n / 12)) word += SYLLABLES[n % 12];
  return word;
}

/**
 * A vocabulary for bodies, in three classes. `common`: 80 words, 85% of a body's words, each in nearly
 * every message. `rarer`: 8,000 distinct words (three syllables and a digit), 15% of a body's words picked
 * evenly, so each is in ~3% of the messages. `rare`: 20,000 words (four syllables, no digit), each in the
 * body of five consecutive messages only (`rareWordOf`): five messages at 10,000, and the first 2,000 of
 * them are in five messages at any size from 10,000 up.
 */
export const WORDS = (() => {
  const common =
    ("the of and to in is you that it he was for on are as with his they at be this have from or " +
      "one had by word but not what all were we when your can said there use an each which she do how their if " +
      "will up other about out many then them these so some her would make like him into time has look two more " +
      "write go see number no way could people my than first water been call who oil its now find long down day")
      .split(" ");
  const rarer = Array.from({ length: 8000 }, (_, i) => syllablesOf(i, 3) + Math.floor(i / 1728));
  const rare = Array.from({ length: 20_000 }, (_, i) => syllablesOf(i, 4));
  return { common, rarer, rare };
})();

/** The rare word in the body of generated message `i`. */
export function rareWordOf(i: number): string {
  return WORDS.rare[Math.floor(i / 5) % WORDS.rare.length];
}

/**
 * A generated message of about 10 KB: one of 300 conversations, from one of 200 senders; its subject
 * names a rarer word, its body holds common and rarer words and one rare word (see {@link WORDS}).
 */
export function generatedMessage(i: number): Uint8Array<ArrayBuffer> {
  let seed = i * 2654435761 % 4294967296;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = (list: string[]) => list[Math.floor(next() * list.length)];
  const lines: string[] = [];
  let line = "";
  let size = 0;
  const rareAt = 40 + (i % 50);
  for (let n = 0; size < 9600; n++) {
    const word = n === rareAt ? rareWordOf(i) : next() < 0.85 ? pick(WORDS.common) : pick(WORDS.rarer);
    line += (line ? " " : "") + word;
    if (line.length > 72) {
      lines.push(line);
      size += line.length + 2;
      line = "";
    }
  }
  lines.push(line);
  const thread = i % 300;
  const sender = i % 200;
  const reply = i >= 300;
  const day = 1 + (i % 28);
  return encoder.encode([
    `From: Sender ${sender} <sender${sender}@example.net>`,
    `To: ${USER}@${DOMAIN}`,
    `Subject: ${reply ? "Re: " : ""}Conversation ${thread} about ${WORDS.rarer[thread]}`,
    `Date: ${["Mon", "Tue", "Wed", "Thu"][i % 4]}, ${day} Nov 2026 ${
      String(i % 24).padStart(2, "0")
    }:00:00 +0000`,
    `Message-ID: <m${i}@example.net>`,
    ...(reply ? [`In-Reply-To: <m${thread}@example.net>`] : []),
    "Content-Type: text/plain; charset=utf-8",
    "",
    ...lines,
    "",
  ].join("\r\n"));
}

/** What the figures measured. */
export interface EmailStoreMeasurements {
  imported: number;
  importSeconds: number;
  mailbox: number;
  listing: number[];
  text: number[];
  rssBytes: number;
}

/** POST /jmap with `methodCalls` (core and mail); its methodResponses, or an error for a non-200. */
export async function jmap(
  url: string,
  auth: string,
  methodCalls: unknown[],
): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${url}/jmap`, {
    method: "POST",
    headers: { authorization: auth, "content-type": "application/json" },
    body: JSON.stringify({ using: [CORE, MAIL], methodCalls }),
  });
  const body = await response.json();
  if (response.status !== 200) {
    throw new Error(`POST /jmap answered ${response.status}: ${JSON.stringify(body)}`);
  }
  return body.methodResponses;
}

/** The mail account of `auth` on the server at `url` and its mailboxes (id, role), from the session. */
export async function mailAccount(
  url: string,
  auth: string,
): Promise<{ accountId: string; mailboxes: { id: string; role: string }[]; role(name: string): string }> {
  const session = await (await fetch(`${url}/jmap/session`, { headers: { authorization: auth } })).json();
  const accountId = session.primaryAccounts[MAIL] as string;
  const [[, boxes]] = await jmap(url, auth, [["Mailbox/get", { accountId, ids: null }, "b"]]) as unknown as [
    string,
    { list: { id: string; role: string }[] },
  ][];
  return {
    accountId,
    mailboxes: boxes.list,
    role: (name) => boxes.list.find((m) => m.role === name)!.id,
  };
}

/** The properties a mail client's message list shows (the listing and full-text figures ask for these). */
export const LISTED_PROPERTIES = [
  "threadId",
  "mailboxIds",
  "keywords",
  "from",
  "subject",
  "receivedAt",
  "size",
  "preview",
];

/**
 * A page of a message list as one JMAP request: Email/query of 50 matching `filter`, newest first, from
 * `position`, and Email/get of their `properties` (default LISTED_PROPERTIES).
 */
export function newestPage(
  accountId: string,
  filter: Record<string, unknown>,
  properties: readonly string[] = LISTED_PROPERTIES,
  position = 0,
) {
  return {
    using: ["urn:ietf:params:jmap:core", MAIL],
    methodCalls: [
      ["Email/query", {
        accountId,
        filter,
        sort: [{ property: "receivedAt", isAscending: false }],
        position,
        limit: 50,
      }, "q"],
      ["Email/get", {
        accountId,
        "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
        properties,
      }, "g"],
    ],
  };
}

/** Imports generated messages `from`…`total` into the bench user's Inbox, in-process. */
export async function growMailbox(dataDir: string, options: { from: number; total: number }) {
  await withServices(dataDir, async (services) => {
    const id = await services.accounts.idByLogin(`${USER}@${DOMAIN}`);
    const inbox = (await services.mailboxes.list(id!, id!)).find((m) => m.role === "inbox")!.id;
    for (let start = options.from; start < options.total; start += 500) {
      const items = [];
      for (let i = start; i < Math.min(options.total, start + 500); i++) {
        const upload = await services.blobs.upload(id!, id!, {
          data: generatedMessage(i),
          type: "message/rfc822",
        });
        items.push({ blobId: upload.blobId, mailboxIds: [inbox], keywords: i % 3 ? ["$seen"] : [] });
      }
      for (const result of await services.emails.import(id!, id!, items)) {
        if ("type" in result) throw new Error(`import failed: ${JSON.stringify(result)}`);
      }
    }
  });
}

/** Runs `body` with the services of the data directory, opened as the server opens them. */
export async function withServices(
  dataDir: string,
  body: (services: Services) => Promise<void>,
): Promise<void> {
  const { services } = await openData(resolveConfig({ data: dataDir }, Deno.env.toObject()), {
    searchIndexWorker: true,
  });
  try {
    await body(services);
    // What was imported is in the full-text index before the server that runs on it starts.
    await services.searchIndexer.caughtUp();
  } finally {
    await services.close();
  }
}

/** Latencies (ms) of `requests` POST /jmap bodies made by `body(i)`, one at a time on one connection. */
export async function probe(
  server: Server,
  auth: string,
  requests: number,
  body: (i: number) => unknown,
): Promise<number[]> {
  const connection = await RawConnection.open(new URL(server.url));
  const url = new URL("/jmap", server.url);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < requests; i++) {
      const request = httpRequest(
        "POST",
        url,
        { authorization: auth, "content-type": "application/json" },
        encoder.encode(JSON.stringify(body(i))),
      );
      const started = performance.now();
      const answer = await connection.send(request);
      const elapsed = performance.now() - started;
      const text = decoder.decode(answer.body);
      if (answer.status !== 200 || text.includes('"error"')) {
        throw new Error(`probe answer ${answer.status}: ${text.slice(0, 300)}`);
      }
      latencies.push(elapsed);
    }
  } finally {
    connection.close();
  }
  return latencies;
}

function rssOf(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Runs figures 11 to 14 in `tmp` with servers of `group`. */
export async function emailStoreFigures(
  group: ProcessGroup,
  options: { tmp: string; messages: number; mailbox: number; requests: number },
): Promise<{ figures: Figure[]; measured: EmailStoreMeasurements }> {
  const dataDir = `${options.tmp}/email-data`;
  await bootstrapData(dataDir, { domain: DOMAIN, adminPassword: ADMIN_PASSWORD });
  await withServices(dataDir, async (services) => {
    const domain = await services.domains.getByName(DOMAIN);
    await services.accounts.create({ type: "User", name: USER, domainId: domain!.id, password: PASSWORD });
  });
  const auth = basic(`${USER}@${DOMAIN}`, PASSWORD);
  const env = { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD };
  const server = await group.startPostern("postern-mail", {
    dataDir,
    logLevel: "warning",
    logPath: `${options.tmp}/mail.log`,
    env,
  });
  const { accountId, role } = await mailAccount(server.url, auth);
  const inbox = role("inbox");

  console.log(
    `\nEmail/import over HTTP: ${
      options.messages.toLocaleString("en-US")
    } messages of ~10 KB, ${UPLOADERS} connections, ${IMPORT_BATCH} per import, ${IMPORT_ROUNDS} rounds`,
  );
  const rounds = await importRounds(server, {
    auth,
    accountId,
    inbox,
    count: options.messages,
    rounds: IMPORT_ROUNDS,
    message: generatedMessage,
    log: console.log,
  });
  const imported = importMedians(rounds);
  const rate = imported.rate;
  const importSeconds = options.messages / rate;
  console.log(
    `median of ${rounds.rates.length} rounds: ${
      Math.round(rate).toLocaleString("en-US")
    } messages/s, server CPU ${imported.processUs.toFixed(0)} µs/msg (main thread ${
      imported.mainUs.toFixed(0)
    }), load ${loadAverage()}`,
  );

  // The rest goes in in-process, on the same database while the server runs (it sees each write).
  const grow = performance.now();
  await growMailbox(dataDir, { from: options.messages, total: options.mailbox });
  console.log(
    `Grew the Inbox to ${options.mailbox.toLocaleString("en-US")} messages in-process in ${
      ((performance.now() - grow) / 1000).toFixed(1)
    } s`,
  );

  const listing = (i: number, random = false) =>
    newestPage(
      accountId,
      { inMailbox: inbox },
      [...LISTED_PROPERTIES, "hasAttachment"],
      random ? (i * 7919) % (options.mailbox - 50) : 0,
    );
  const text = (i: number) => ({
    using: [CORE, MAIL],
    methodCalls: [["Email/query", {
      accountId,
      filter: { text: i % 2 ? WORDS.rarer[i % 2000] : `${WORDS.rarer[i % 2000]} ${WORDS.common[i % 80]}` },
      sort: [{ property: "receivedAt", isAscending: false }],
      limit: 50,
    }, "t"]],
  });
  console.log(
    `\nOn the ${options.mailbox.toLocaleString("en-US")}-message Inbox, one keep-alive connection:`,
  );
  const line = (values: number[]) =>
    `p50 ${ms(quantile(values, 0.5))} p90 ${ms(quantile(values, 0.9))} p99 ${ms(quantile(values, 0.99))}`;
  await probe(server, auth, 50, listing);
  const listed = await probe(server, auth, options.requests, listing);
  console.log(`Email/query (the newest 50) + Email/get of them: ${line(listed)}`);
  const deep = await probe(server, auth, Math.max(50, options.requests / 4), (i) => listing(i, true));
  console.log(`the same, 50 from a random position (information): ${line(deep)}`);
  await probe(server, auth, 20, text);
  const searched = await probe(server, auth, Math.max(50, options.requests / 4), text);
  console.log(`Email/query text search (50 newest): ${line(searched)}`);
  await new Promise((r) => setTimeout(r, 2000));
  const rssBytes = rssOf(server.pid);
  console.log(`Server RSS at rest: ${(rssBytes / 1048576).toFixed(0)} MiB`);

  const p50 = quantile(listed, 0.5);
  const p99 = quantile(listed, 0.99);
  const textP50 = quantile(searched, 0.5);
  const figures: Figure[] = [
    {
      figure: `11. Email/import over HTTP, ${options.messages.toLocaleString("en-US")} × ~10 KB`,
      value: `${Math.round(rate).toLocaleString("en-US")} msg/s`,
      baseline: "—",
      ratio: "—",
      target: "≥ 1,500 msg/s",
      result: rate >= 1500 ? "PASS" : "FAIL",
    },
    {
      figure: "    same, server CPU per message (main thread)",
      value: `${imported.processUs.toFixed(0)} µs (${imported.mainUs.toFixed(0)} µs)`,
      baseline: "—",
      ratio: "—",
      target: "—",
      result: "info",
    },
    {
      figure: `12. Email/query + get of 50, ${options.mailbox.toLocaleString("en-US")} msgs, p50`,
      value: ms(p50),
      baseline: "—",
      ratio: "—",
      target: "< 10 ms",
      result: p50 < 10 ? "PASS" : "FAIL",
    },
    {
      figure: "    same, p99",
      value: ms(p99),
      baseline: "—",
      ratio: "—",
      target: "< 30 ms",
      result: p99 < 30 ? "PASS" : "FAIL",
    },
    {
      figure: "13. Email/query full-text, p50",
      value: ms(textP50),
      baseline: "—",
      ratio: "—",
      target: "< 50 ms",
      result: textP50 < 50 ? "PASS" : "FAIL",
    },
    {
      figure: "14. server RSS at rest after the import",
      value: `${(rssBytes / 1048576).toFixed(0)} MiB`,
      baseline: "—",
      ratio: "—",
      target: "—",
      result: "info",
    },
  ];
  return {
    figures,
    measured: {
      imported: options.messages,
      importSeconds,
      mailbox: options.mailbox,
      listing: listed,
      text: searched,
      rssBytes,
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "10000" },
      mailbox: { type: "string", default: "100000" },
      requests: { type: "string", default: "400" },
    },
  });
  const tmp = await Deno.makeTempDir({ prefix: "postern-email-bench-" });
  const group = new ProcessGroup();
  try {
    const { figures } = await emailStoreFigures(group, {
      tmp,
      messages: Number(values.messages),
      mailbox: Number(values.mailbox),
      requests: Number(values.requests),
    });
    console.log("");
    printSummary(figures);
  } finally {
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
  }
}
