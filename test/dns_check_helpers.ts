/**
 * What the `postern dns check` tests share: dnsmasq options that publish a list of records as
 * `postern dns --json` prints them (so a right zone is exactly what Postern asks for), with
 * overrides to make some of them missing or wrong.
 */
import { txtStrings } from "./dkim_helpers.ts";

/** A record as `postern dns --json` prints it. */
export interface Rec {
  name: string;
  type: string;
  value: string;
}

const bare = (name: string) => name.replace(/\.$/, "");

/** dnsmasq options publishing `records`; `mailHost` gets `address`. */
export function dnsmasqOptions(records: readonly Rec[], mailHost: string, address = "127.0.0.1"): string[] {
  const options = [`--host-record=${mailHost},${address}`];
  for (const r of records) {
    const name = bare(r.name);
    const parts = r.value.split(/\s+/);
    if (r.type === "MX") options.push(`--mx-host=${name},${bare(parts[1])},${parts[0]}`);
    else if (r.type === "TXT") options.push(txtOption(name, txtStrings(r.value)));
    else if (r.type === "CNAME") options.push(`--cname=${name},${bare(r.value)}`);
    else if (r.type === "SRV") {
      const [priority, weight, port, target] = parts;
      // No target: dnsmasq answers with target "." (RFC 2782: the service is not available).
      options.push(
        bare(target)
          ? `--srv-host=${name},${bare(target)},${port},${priority},${weight}`
          : `--srv-host=${name}`,
      );
    } else throw new Error(`no dnsmasq option for ${r.type}`);
  }
  return options;
}

/** A --txt-record option: dnsmasq splits its text at commas into strings, so the strings must have none. */
export function txtOption(name: string, strings: readonly string[]): string {
  if (strings.some((s) => s.includes(","))) throw new Error(`dnsmasq splits TXT text at commas: ${strings}`);
  return `--txt-record=${name},${strings.join(",")}`;
}
