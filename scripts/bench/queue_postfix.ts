/**
 * The baseline of the queue drain (queue_drain.ts, figure 19): a private Postfix relaying the bench's
 * domains to the same smtp-sink, its queue filled by smtp-source with delivery held
 * (`defer_transports = smtp`), then released and timed until `postqueue -p` is empty.
 */
import { startPostfix } from "./postfix.ts";
import type { ProcessGroup } from "./processes.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function command(executable: string, args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(executable, { args, stdout: "null", stderr: "piped" })
    .output();
  if (code !== 0) throw new Error(`${executable} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

/** One Postfix round: fill its queue with delivery held, release it, time until it is empty. */
export async function postfixRound(
  group: ProcessGroup,
  tmp: string,
  options: {
    messages: number;
    domains: number;
    sinkPort: number;
    round: number;
    bodyBytes: number;
    domainName: (i: number) => string;
    freePort: () => number;
    timeoutMs: number;
  },
): Promise<number> {
  const { domainName, freePort } = options;
  const dir = `${tmp}/postfix-${options.round}`;
  const transports = Object.fromEntries(
    Array.from(
      { length: options.domains },
      (_, i) => [domainName(i), `smtp:[127.0.0.1]:${options.sinkPort}`],
    ),
  );
  const postfix = await startPostfix(dir, {
    smtpPort: freePort(),
    transports,
    extra: { defer_transports: "smtp" },
  });
  try {
    const perDomain = Math.ceil(options.messages / options.domains);
    for (let i = 0; i < options.domains; i++) {
      await group.run("smtp-source", "/usr/sbin/smtp-source", [
        ...["-s", "4", "-m", String(perDomain), "-l", String(options.bodyBytes), "-d"],
        ...["-f", "sender@sender.test", "-t", `rcpt@${domainName(i)}`, "-M", "sender.test"],
        `127.0.0.1:${postfix.smtpPort}`,
      ], { timeoutMs: 600_000 });
    }
    const total = perDomain * options.domains;
    const queued = async () => {
      let n = 0;
      for (const sub of ["deferred", "active", "incoming"]) {
        for await (const entry of walkFiles(`${dir}/queue/${sub}`)) n += entry;
      }
      return n;
    };
    const deadline = performance.now() + 300_000;
    while (await queued() < total) {
      if (performance.now() > deadline) throw new Error(`Postfix queued ${await queued()} of ${total}`);
      await sleep(100);
    }
    await command("/usr/sbin/postconf", ["-c", dir, "-e", "defer_transports="]);
    await command("/usr/sbin/postfix", ["-c", dir, "reload"]);
    const started = performance.now();
    await postfix.flush();
    while (!await postfix.queueEmpty()) {
      if (performance.now() - started > options.timeoutMs) throw new Error("Postfix did not drain its queue");
      await sleep(50);
    }
    return total / ((performance.now() - started) / 1000);
  } finally {
    await postfix.stop();
  }
}

/** Counts the files under `dir` (Postfix's hashed queue directories). */
async function* walkFiles(dir: string): AsyncGenerator<number> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) yield* walkFiles(`${dir}/${entry.name}`);
      else if (entry.isFile) yield 1;
    }
  } catch {
    // Not there (yet): nothing queued in it.
  }
}
