/**
 * The checks an account's create and update make of what it names: its domain, its addresses
 * (free, in known domains), the groups it joins and its password. Each refusal is the client's error, naming the
 * property.
 */
import type { AccountServiceOptions, PasswordHashing } from "./account_types.ts";
import { ConflictError, InvalidInputError, type Store } from "./deps.ts";
import { passwordWeakness } from "./password_policy.ts";

/** The domain `domainId`, or an InvalidInputError naming domainId. */
export async function requireDomain(store: Store, domainId: number, action: string) {
  const domain = await store.domains.get(domainId);
  if (!domain) {
    throw new InvalidInputError(`${action}: domain ${domainId} does not exist`, [
      { property: "domainId", message: "no such domain" },
    ]);
  }
  return domain;
}

/** Refuses (ConflictError) an address another account holds. */
export async function ensureAddressFree(
  store: Store,
  localPart: string,
  domain: { id: number; name: string },
  self: number | undefined,
  action: string,
): Promise<void> {
  const owner = await store.accounts.addressOwner({ localPart, domainId: domain.id });
  if (owner !== undefined && owner !== self) {
    throw new ConflictError(`${action}: address "${localPart}@${domain.name}" is taken`);
  }
}

/** The aliases as stored addresses: each in a known domain, free, not the primary address. */
export async function resolveAliases(
  store: Store,
  aliases: string[],
  self: number | undefined,
  action: string,
  primary: string,
) {
  const out: { localPart: string; domainId: number }[] = [];
  const seen = new Set<string>();
  for (const alias of aliases) {
    if (seen.has(alias)) continue;
    seen.add(alias);
    if (alias === primary) {
      throw new InvalidInputError(`${action}: alias "${alias}" is the account's primary address`, [
        { property: "aliases", message: `"${alias}" is already the primary address` },
      ]);
    }
    const at = alias.lastIndexOf("@");
    const domain = await store.domains.getByName(alias.slice(at + 1));
    if (!domain) {
      throw new InvalidInputError(`${action}: alias "${alias}" is in no known domain`, [
        { property: "aliases", message: `domain "${alias.slice(at + 1)}" does not exist` },
      ]);
    }
    const localPart = alias.slice(0, at);
    await ensureAddressFree(store, localPart, domain, self, action);
    out.push({ localPart, domainId: domain.id });
  }
  return out;
}

/** The group ids without repeats, each an existing group other than the account itself. */
export async function checkGroups(
  store: Store,
  groupIds: number[],
  self: number | undefined,
  action: string,
) {
  const unique = [...new Set(groupIds)];
  for (const groupId of unique) {
    const group = await store.accounts.get(groupId);
    if (!group || group.type !== "Group" || groupId === self) {
      throw new InvalidInputError(`${action}: ${groupId} is not a group`, [
        { property: "memberGroupIds", message: `account ${groupId} is not an existing group` },
      ]);
    }
  }
  return unique;
}

/**
 * What is stored for a new password: an imported Argon2id hash as given (if `verify` can use it), else
 * the hash of a password the policy accepts.
 */
export async function storedPassword(
  deps: { hasher: PasswordHashing; options: AccountServiceOptions },
  password: string,
  action: string,
): Promise<string> {
  if (password.startsWith("$argon2id$")) {
    if (!deps.hasher.isUsableHash(password)) {
      const message =
        "not a usable $argon2id$v=19$m=…,t=…,p=…$salt$hash string (format or parameters out of range)";
      throw new InvalidInputError(`${action}: the Argon2id hash is malformed`, [{
        property: "credentials",
        message,
      }]);
    }
    return password;
  }
  const weakness = passwordWeakness(password, { minLength: deps.options.minPasswordLength() });
  if (weakness) {
    throw new InvalidInputError(`${action}: ${weakness}`, [{ property: "credentials", message: weakness }]);
  }
  return await deps.hasher.hash(password);
}
