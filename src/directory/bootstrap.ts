import type { AccessKeyService } from "./access_keys.ts";
import type { AccountService } from "./accounts.ts";
import type { DomainService } from "./domains.ts";
import { encodeId } from "./deps.ts";

/** What a first start created (secrets only when just created). */
export interface BootstrapResult {
  created: boolean;
  domain: { id: string; name: string };
  admin: { id: string; name: string; emailAddress: string };
  /** The admin password, when generated now (print once). */
  generatedPassword?: string;
  /** A new admin API key, when requested. */
  apiKey?: string;
}

/**
 * Makes an empty directory usable: a domain and an admin account. Idempotent: when any admin
 * exists nothing is created; a new API key is made only when asked for.
 */
export async function bootstrap(
  services: { accounts: AccountService; domains: DomainService; accessKeys: AccessKeyService },
  options: { domain: string; adminPassword?: string; createApiKey?: boolean },
): Promise<BootstrapResult> {
  const existing = await findAdmin(services.accounts);
  let created = false;
  let generatedPassword: string | undefined;
  let admin = existing;
  if (!admin) {
    const domain = await services.domains.getByName(options.domain) ??
      await services.domains.create({ name: options.domain, description: "Created on first start" });
    generatedPassword = options.adminPassword ? undefined : generatePassword();
    admin = await services.accounts.create({
      type: "User",
      name: "admin",
      domainId: domain.id,
      description: "Administrator",
      password: options.adminPassword || generatedPassword,
      roles: ["admin"],
    });
    created = true;
  }
  const apiKey = options.createApiKey
    ? (await services.accessKeys.create("ApiKey", admin.id, { description: "Created by postern init" }))
      .secret
    : undefined;
  return {
    created,
    domain: { id: encodeId(admin.domainId), name: admin.domainName },
    admin: { id: encodeId(admin.id), name: admin.name, emailAddress: admin.primaryAddress },
    ...(generatedPassword ? { generatedPassword } : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

async function findAdmin(accounts: AccountService) {
  for (const id of await accounts.query({ type: "User" })) {
    const account = await accounts.get(id);
    if (account?.roles.includes("admin")) return account;
  }
  return undefined;
}

/** 20 random characters from an unambiguous alphabet: about 115 bits. */
function generatePassword(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
}
