/** The JMAP query figure: one run of jmap_probe.ts (its own process) against a server. */
import type { JmapProbeResult } from "./jmap_probe.ts";
import type { ProcessGroup, Server } from "./processes.ts";
import { ms, quantile } from "./report.ts";

/** What the figure needs: the probe's result, or nothing when the probe failed (the error is printed). */
export interface QueryLatency {
  /** Accounts created for the figure (the directory also holds the admin and the login accounts). */
  accounts: number;
  limit: number;
  result?: JmapProbeResult;
}

/**
 * Runs the probe: `requests` query + get requests and as many Core/echo, after `warmup` of each. A
 * failed probe (a response without its page, a refused request) is reported loudly and fails the
 * figure; the other figures still print.
 */
export async function queryLatency(
  group: ProcessGroup,
  options: {
    server: Server;
    authorization: string;
    accounts: number;
    limit: number;
    requests: number;
    warmup: number;
  },
): Promise<QueryLatency> {
  const { server, accounts, limit, requests, warmup } = options;
  console.log(
    `\nPOST /jmap on one keep-alive connection: x:Account/query (sort by name, ${limit} at a random ` +
      `position) + x:Account/get #ids, against Core/echo; ${requests} of each after ${warmup} warm-up`,
  );
  let result: JmapProbeResult;
  try {
    result = await group.runJson<JmapProbeResult>("scripts/bench/jmap_probe.ts", [
      "--url",
      server.url,
      "--authorization",
      options.authorization,
      "--requests",
      String(requests),
      "--warmup",
      String(warmup),
      "--limit",
      String(limit),
    ]);
  } catch (error) {
    console.log(
      `\nERROR: the JMAP query probe failed, figure 5 has no value:\n${(error as Error).message}\n`,
    );
    return { accounts, limit };
  }
  const line = (values: number[]) =>
    `p50 ${ms(quantile(values, 0.5))} p90 ${ms(quantile(values, 0.9))} p99 ${ms(quantile(values, 0.99))} ` +
    `max ${ms(Math.max(...values))}`;
  console.log(`account ${result.accountId}, the query matches ${result.total.toLocaleString("en-US")} users`);
  console.log(`query + get: ${line(result.query)}`);
  console.log(`Core/echo:   ${line(result.echo)}`);
  return { accounts, limit, result };
}
