/**
 * SELECT INBOX in-process, through a real ImapSession on the services and session dependencies
 * `postern serve` builds (src/imap_listener.ts), without the wire, and the parts it is made of:
 * the credential's re-check, the mailbox list and the names SELECT resolves from, the IMAP mail
 * service's selectMailbox, and the sync's changes() when nothing changed. Medians of 7 runs of
 * `--count / 7` calls, in µs.
 *
 * `--root` loads the code of another checkout (for instance `git archive BASE | tar -x -C DIR`), so two
 * builds can be run one after the other on copies of one data directory (the IMAP benchmark's:
 * scripts/bench/imap_select_probe.ts or imap_figures.ts make it).
 *
 *   deno run -A scripts/bench/imap_session_select.ts --data DIR [--root DIR] [--count 2000]
 */
import { parseArgs } from "node:util";
import { getLogger } from "@logtape/logtape";
import { ADMIN_PASSWORD, PASSWORD } from "./email_store.ts";
import { LOGIN } from "./imap_setup.ts";
import { repoPath } from "./processes.ts";
import { median } from "./report.ts";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    root: { type: "string", default: repoPath("").replace(/\/$/, "") },
    count: { type: "string", default: "2000" },
  },
});
if (!values.data) throw new Error("--data DIR (a copy of the IMAP benchmark's data directory) is required");
const ROOT = values.root!;
const COUNT = Number(values.count);

const { resolveConfig } = await import(`${ROOT}/src/config/mod.ts`);
const { openData } = await import(`${ROOT}/src/server.ts`);
const { imapMailboxes } = await import(`${ROOT}/src/imap_listener.ts`);
const { ImapSession } = await import(`${ROOT}/src/imap/session.ts`);
const { COMMANDS } = await import(`${ROOT}/src/imap/commands/table.ts`);
const { createCommandDecoder } = await import(`${ROOT}/src/imap/decoder.ts`);
const { ImapMetrics } = await import(`${ROOT}/src/imap/metrics.ts`);

const { services } = await openData(
  resolveConfig({ data: values.data }, { POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD }),
);
const id: number = (await services.accounts.idByLogin(LOGIN))!;
const authorization = "Basic " + btoa(`${LOGIN}:${PASSWORD}`);
const recheck = async (credential: string, client: string) => {
  await services.sync();
  return await services.connectionAuthenticator.authenticate(credential, client);
};
const deps = {
  checkLogin: () => Promise.reject(new Error("logged in already")),
  recheck,
  mailboxes: imapMailboxes(services),
  messages: services.imapMailboxes,
  metrics: new ImapMetrics(),
  log: getLogger(["postern", "imap"]),
  limits: { maxErrors: 1000 },
  version: "bench",
};
const io = {
  client: "127.0.0.1",
  secure: true,
  starttls: false,
  write: () => {},
  startTls: () => Promise.reject(new Error("no TLS in process")),
  compress: () => {},
  close: () => {},
};
const limits = { maxLine: 65_536, maxAppendLiteral: 1 << 20, maxLiteral: 65_536 };
const session = new ImapSession(io, createCommandDecoder(limits), deps, COMMANDS);
session.state = "authenticated";
session.principal = await recheck(authorization, "127.0.0.1");
session.authorization = authorization;

/** Median µs of `body` over 7 runs of COUNT / 7 calls, after 50 to warm up. */
async function time(name: string, body: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 50; i++) await body();
  const runs: number[] = [];
  const calls = Math.max(1, Math.floor(COUNT / 7));
  for (let run = 0; run < 7; run++) {
    const started = performance.now();
    for (let i = 0; i < calls; i++) await body();
    runs.push((performance.now() - started) / calls);
  }
  console.log(`${name}: ${Math.round(median(runs) * 1000)} µs`);
}

const select = { tag: "a", uid: false, body: { name: "SELECT", mailbox: "INBOX" } };
await time("SELECT INBOX (session)", () => session.handle({ type: "command", command: select }));
await time("re-check of the credential", () => recheck(authorization, "127.0.0.1"));
await time("mailboxes.list (own)", () => deps.mailboxes.list(id, id));
if (deps.mailboxes.names) await time("mailboxes.names (own)", () => deps.mailboxes.names!(id, id));
const inbox = (await services.imapMailboxes.resolve(id, "INBOX"))!;
await time("selectMailbox", () => services.imapMailboxes.selectMailbox(id, inbox));
const modseq = (await services.imapMailboxes.view(id, inbox)).highestModseq;
await time("changes() when nothing changed", () => services.imapMailboxes.changes(id, inbox, modseq));
Deno.exit(0);
