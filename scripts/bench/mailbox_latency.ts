/** The Mailbox/get figure: one run of mailbox_probe.ts (its own process) against a server. */
import type { MailboxProbeResult } from "./mailbox_probe.ts";
import type { ProcessGroup, Server } from "./processes.ts";
import { ms, quantile } from "./report.ts";

/** What the figure needs: the probe's result, or nothing when the probe failed (the error is printed). */
export interface MailboxLatency {
  /** Mailboxes in the account (and in every Mailbox/get response). */
  mailboxes: number;
  result?: MailboxProbeResult;
}

/**
 * Runs the probe: `requests` Mailbox/get and as many Core/echo, after `warmup` of each. A failed
 * probe (a response without every mailbox, a refused request) is reported loudly and fails the
 * figure; the other figures still print.
 */
export async function mailboxLatency(
  group: ProcessGroup,
  options: { server: Server; authorization: string; mailboxes: number; requests: number; warmup: number },
): Promise<MailboxLatency> {
  const { server, mailboxes, requests, warmup } = options;
  console.log(
    `\nPOST /jmap on one keep-alive connection: Mailbox/get (ids null) of ${mailboxes} mailboxes, ` +
      `against Core/echo; ${requests} of each after ${warmup} warm-up`,
  );
  let result: MailboxProbeResult;
  try {
    result = await group.runJson<MailboxProbeResult>("scripts/bench/mailbox_probe.ts", [
      "--url",
      server.url,
      "--authorization",
      options.authorization,
      "--expect",
      String(mailboxes),
      "--requests",
      String(requests),
      "--warmup",
      String(warmup),
    ]);
  } catch (error) {
    console.log(
      `\nERROR: the Mailbox/get probe failed, figure 10 has no value:\n${(error as Error).message}\n`,
    );
    return { mailboxes };
  }
  const line = (values: number[]) =>
    `p50 ${ms(quantile(values, 0.5))} p90 ${ms(quantile(values, 0.9))} p99 ${ms(quantile(values, 0.99))} ` +
    `max ${ms(Math.max(...values))}`;
  console.log(`account ${result.accountId}, ${result.bytes.toLocaleString("en-US")} bytes per response`);
  console.log(`Mailbox/get: ${line(result.get)}`);
  console.log(`Core/echo:   ${line(result.echo)}`);
  return { mailboxes, result };
}
