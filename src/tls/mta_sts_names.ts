/**
 * The `mta-sts.DOMAIN` names the ACME certificate should carry, so the MTA-STS policy Postern
 * publishes (https://mta-sts.DOMAIN/.well-known/mta-sts.txt, RFC 8461 §3.3) is served with a
 * certificate that names it. One failing name fails a whole ACME order, so a name is added only when
 * its policy is published (mode not "none") and it resolves to an address of one of the configured
 * certificate names: the CNAME `postern dns` prints is in place and points here.
 */

/** What the selection reads. */
export interface MtaStsNameSources {
  /** The local domains with their MTA-STS mode. */
  domains(): Promise<{ name: string; mtaStsMode: string }[]>;
  /** The addresses a name resolves to ([] or a throw when it does not). */
  addresses(name: string): Promise<string[]>;
  /** The names configured for the certificate (--acme-domains or its default). */
  configured: readonly string[];
}

/** The mta-sts.DOMAIN names that point at this server, for {@link AcmeSettings.extraNames}. */
export async function mtaStsNames(sources: MtaStsNameSources): Promise<string[]> {
  const resolve = (name: string) => sources.addresses(name).catch(() => [] as string[]);
  const ours = new Set((await Promise.all(sources.configured.map(resolve))).flat());
  const names: string[] = [];
  for (const domain of await sources.domains()) {
    if (domain.mtaStsMode === "none") continue;
    const name = `mta-sts.${domain.name}`.toLowerCase();
    if (sources.configured.includes(name)) continue;
    if ((await resolve(name)).some((address) => ours.has(address))) names.push(name);
  }
  return names;
}
