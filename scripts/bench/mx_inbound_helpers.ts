/**
 * The pieces of the inbound benchmark (mx_inbound.ts) around its rounds: smtp-source, the accounts
 * a Postern under test needs, the count of what it stored, its per-stage seconds from /metrics and
 * the CPU its serving processes used.
 */
import { resolveConfig } from "../../src/config/mod.ts";
import { openData } from "../../src/server.ts";
import { mainThreadCpuSeconds, processTreeCpuSeconds, threadCpuSeconds } from "./cpu.ts";
import { startDnsmasq } from "./dnsmasq.ts";
import type { ProcessGroup } from "./processes.ts";
import { bootstrapData } from "./setup_data.ts";

/** The bench's domain (the recipients' and the server's). */
export const DOMAIN = "example.org";
const SMTP_SOURCE = "/usr/sbin/smtp-source";
/** The size of one message's body. */
export const BODY_BYTES = 10_240;

/** A free loopback port (for a listener that must be named before it starts). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * One smtp-source run: `messages` of 10 KB over `sessions` connections to `port`; the CPU seconds
 * smtp-source used (read from its parent shell's children times once it has been waited for).
 */
export async function smtpSource(group: ProcessGroup, port: number, messages: number, sessions: number) {
  const stat = await group.run("smtp-source", "/bin/sh", [
    "-c",
    '"$@" >/dev/null && cat /proc/$$/stat',
    "sh",
    SMTP_SOURCE,
    ...["-s", String(sessions), "-m", String(messages), "-l", String(BODY_BYTES), "-d"],
    ...["-f", "sender@sender.test", "-t", `bench@${DOMAIN}`, "-M", "sender.test", `127.0.0.1:${port}`],
  ], { timeoutMs: 600_000 });
  // Fields 16 and 17 (cutime, cstime) of proc(5), counted after the command name's closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Creates the bench and probe accounts; the probe's API key. */
export async function createAccounts(dataDir: string): Promise<string> {
  const { services } = await openData(resolveConfig({ data: dataDir }, Deno.env.toObject()));
  try {
    const domain = await services.domains.getByName(DOMAIN);
    await services.accounts.create({ type: "User", name: "bench", domainId: domain!.id });
    const probe = await services.accounts.create({ type: "User", name: "probe", domainId: domain!.id });
    const key = await services.accessKeys.create("ApiKey", probe.id, { description: "inbound bench" });
    return key.secret;
  } finally {
    await services.close();
  }
}

/**
 * Runs `code` (a module body that prints its answer as JSON) with the code of the checkout at `root`,
 * in a process of its own: a database of this checkout's schema would be refused by an older build
 * (a migration it does not know), so each Postern measured gets its data made and read by its own code.
 */
export async function inCheckout<T>(root: string, code: string): Promise<T> {
  const made = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!made.success) {
    throw new Error(`Cannot run with ${root}: ${new TextDecoder().decode(made.stderr).slice(-2000)}`);
  }
  return JSON.parse(new TextDecoder().decode(made.stdout).trim().split("\n").at(-1)!) as T;
}

/** The data directory of a target: bootstrapped, with the accounts; the probe's API key. */
export async function prepareData(
  dataDir: string,
  options: { root?: string; domain: string; adminPassword: string },
): Promise<string> {
  if (options.root === undefined) {
    await bootstrapData(dataDir, { domain: options.domain, adminPassword: options.adminPassword });
    return await createAccounts(dataDir);
  }
  return await inCheckout<string>(
    options.root,
    `import { bootstrapData } from "./scripts/bench/setup_data.ts";
    import { createAccounts } from "./scripts/bench/mx_inbound_helpers.ts";
    await bootstrapData(${JSON.stringify(dataDir)}, ${
      JSON.stringify({ domain: options.domain, adminPassword: options.adminPassword })
    });
    console.log(JSON.stringify(await createAccounts(${JSON.stringify(dataDir)})));`,
  );
}

/** {@link storedCount} read by the code of the checkout at `root` (this one's when undefined). */
export async function storedCountIn(root: string | undefined, dataDir: string): Promise<number> {
  if (root === undefined) return await storedCount(dataDir);
  return await inCheckout<number>(
    root,
    `import { storedCount } from "./scripts/bench/mx_inbound_helpers.ts";
    console.log(JSON.stringify(await storedCount(${JSON.stringify(dataDir)})));`,
  );
}

/** Emails stored in the bench account (read in-process from the database the server runs on). */
export async function storedCount(dataDir: string): Promise<number> {
  const { services } = await openData(resolveConfig({ data: dataDir }, Deno.env.toObject()));
  try {
    const id = await services.accounts.idByLogin(`bench@${DOMAIN}`);
    const inbox = (await services.store.mailboxes.list(id!)).find((mailbox) => mailbox.role === "inbox");
    return (await services.store.emails.inMailbox(inbox!.id)).length;
  } finally {
    await services.close();
  }
}

/**
 * Seconds the MX's accepted messages spent so far in each stage (receive, authenticate, store) and
 * how many were accepted, from /metrics (loopback needs no credentials), summed over the serving
 * processes (each one's series carries its `process` label).
 */
export async function stageSeconds(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(new URL("/metrics", url))).text();
  const seconds = new Map<string, number>();
  const add = (key: string, value: string) => seconds.set(key, (seconds.get(key) ?? 0) + Number(value));
  for (
    const [, stage, value] of text.matchAll(
      /^postern_smtp_message_stage_seconds_total\{stage="(\w+)"(?:,process="\d+")?\} (\S+)$/gm,
    )
  ) {
    add(stage, value);
  }
  seconds.set("accepted", 0);
  for (
    const [, value] of text.matchAll(/^postern_smtp_messages_accepted_total(?:\{process="\d+"\})? (\S+)$/gm)
  ) {
    add("accepted", value);
  }
  return seconds;
}

/** The serving processes of a Postern: the one started and the children it started. */
function servingPids(pid: number): number[] {
  const pids = [pid];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) pids.push(Number(entry.name));
    } catch { /* exited meanwhile */ }
  }
  return pids;
}

/** CPU seconds so far of a Postern's serving processes: all threads, main threads, by thread name. */
export function serverCpu(pid: number): { total: number; main: number; threads: Map<string, number> } {
  const threads = new Map<string, number>();
  let main = 0;
  for (const one of servingPids(pid)) {
    main += mainThreadCpuSeconds(one) ?? 0;
    for (const [name, seconds] of threadCpuSeconds(one)) {
      threads.set(name, (threads.get(name) ?? 0) + seconds);
    }
  }
  return { total: processTreeCpuSeconds(pid) ?? NaN, main, threads };
}

/**
 * A private dnsmasq serving the sender's SPF (pass for 127.0.0.1) and DMARC (p=none) records with a real
 * zone's TTL and SOA, or undefined when dnsmasq cannot run here.
 */
export function startSenderDns(): ReturnType<typeof startDnsmasq> {
  return startDnsmasq({
    port: freePort(),
    txt: { "sender.test": "v=spf1 ip4:127.0.0.1 -all", "_dmarc.sender.test": "v=DMARC1; p=none" },
    ttl: 300,
    authoritative: true,
  });
}
