/**
 * A real DNS server for the tests: the private dnsmasq of scripts/bench/dnsmasq.ts on 127.0.0.1 and
 * a free port (or an address and port of the test's choice), answering for the `.test` zones and
 * the records a test gives it, and stopped by its PID.
 */
import { canRunDnsmasq, type Dnsmasq, startDnsmasq as start } from "../scripts/bench/dnsmasq.ts";
import { freePort } from "./helpers.ts";

export type { Dnsmasq };

/** Whether dnsmasq is installed (tests that need it are skipped otherwise). */
export const HAS_DNSMASQ = await canRunDnsmasq();

/** TXT records by name; a long value is split into strings of at most 255 bytes (RFC 1035 §3.3.14). */
export type TxtRecords = Record<string, string>;

/**
 * Starts dnsmasq serving `txt` (and NXDOMAIN for any other name under .test); waits until it answers.
 * `extra` adds dnsmasq options such as `--mx-host=` or `--host-record=`.
 */
export async function startDnsmasq(
  txt: TxtRecords,
  extra: string[] = [],
  /** Where it listens (default 127.0.0.1 and a free port; port 53 for tools that use the system resolver). */
  listen: { address?: string; port?: number } = {},
): Promise<Dnsmasq> {
  return await start({ address: listen.address, port: listen.port ?? freePort(), txt, extra });
}
