/** What the mail-client auto-configuration routes (autoconfig.ts, autodiscover.ts) share. */
import type { DomainService } from "../directory/mod.ts";
import type { MailEndpoints } from "../model/dns_records.ts";
import { addressSchema } from "../model/objects/mod.ts";

/** What the auto-configuration routes use. */
export interface AutoconfigDeps {
  domains: Pick<DomainService, "getByName">;
  endpoints: MailEndpoints;
}

/** The address if it is well-formed, else undefined. */
export function parseAddress(text: unknown): { address: string; domain: string } | undefined {
  const parsed = addressSchema.safeParse(typeof text === "string" ? text.trim() : text);
  if (!parsed.success) return undefined;
  return { address: parsed.data, domain: parsed.data.slice(parsed.data.lastIndexOf("@") + 1) };
}

/** Whether `domain` is one of this server's mail domains. */
export async function isLocalDomain(deps: AutoconfigDeps, domain: string): Promise<boolean> {
  return (await deps.domains.getByName(domain)) !== undefined;
}
