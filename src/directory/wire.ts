/** Management objects in wire form: lists keyed by index, dates in UTC, secrets masked. */
import type { AccountInput } from "./account_types.ts";
import {
  type Account,
  type Credential,
  decodeId,
  type Domain,
  encodeId,
  InvalidInputError,
  type ObjectSpec,
  toKeyedList,
} from "./deps.ts";

/** What a write-only value reads as. */
export const MASK = "********";

/** A wire object. */
export type WireObject = Record<string, unknown>;

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** An account in wire form. */
export function accountToWire(account: Account): WireObject {
  return {
    id: encodeId(account.id),
    "@type": account.type,
    name: account.name,
    domainId: encodeId(account.domainId),
    emailAddress: account.primaryAddress,
    description: account.description,
    locale: account.locale,
    aliases: toKeyedList(account.aliases),
    ...(account.type === "User" && account.hasPassword
      ? { credentials: { "0": { "@type": "Password", secret: MASK } } }
      : {}),
    quotas: account.quotas,
    ...(account.type === "User" ? { roles: toKeyedList(account.roles) } : {}),
    memberGroupIds: toKeyedList(account.memberGroupIds.map(encodeId)),
    ...(account.type === "User" ? { sendAsGroupIds: toKeyedList(account.sendAsGroupIds.map(encodeId)) } : {}),
    ...(account.type === "User"
      ? { forwardTo: toKeyedList(account.forwardTo), forwardKeepCopy: account.forwardKeepCopy }
      : {}),
    enabled: account.enabled,
    createdAt: iso(account.createdAt),
    updatedAt: iso(account.updatedAt),
  };
}

/** A domain in wire form. */
export function domainToWire(domain: Domain): WireObject {
  return {
    id: encodeId(domain.id),
    name: domain.name,
    description: domain.description,
    dmarcEnforcement: domain.dmarcEnforcement,
    catchAll: domain.catchAll,
    mtaStsMode: domain.mtaStsMode,
    createdAt: iso(domain.createdAt),
  };
}

/** An app password or API key in wire form, secret omitted. */
export function accessKeyToWire(credential: Credential): WireObject {
  return {
    id: encodeId(credential.id),
    accountId: encodeId(credential.accountId),
    description: credential.description,
    expiresAt: iso(credential.expiresAt),
    createdAt: iso(credential.createdAt),
    lastUsedAt: iso(credential.lastUsedAt),
  };
}

/**
 * A settings value with its write-only fields masked (a SecretKey value keeps its kind, a string
 * becomes the mask); the mask written back is no change.
 */
export function masked(spec: ObjectSpec, value: WireObject): WireObject {
  const out = { ...value };
  for (const [name, field] of Object.entries(spec.fields)) {
    const v = out[name];
    if (!field.writeOnly || v === null || v === undefined) continue;
    out[name] = typeof v === "object" && "secret" in v ? { ...v, secret: MASK } : MASK;
  }
  return out;
}

/** Decodes a wire id or throws an InvalidInputError naming the property. */
export function requireId(wire: string, property: string): number {
  const id = decodeId(wire);
  if (id === undefined) {
    throw new InvalidInputError(`"${wire}" is not a valid id`, [{ property, message: "not a valid id" }]);
  }
  return id;
}

/** An account create or update in wire form as the account service takes it (ids decoded). */
export function accountInput(
  value: WireObject,
  type: "User" | "Group",
): AccountInput & { type: "User" | "Group" } {
  const credentials = value.credentials as { secret: string; revokeAppPasswords?: boolean }[] | undefined;
  return {
    type,
    name: value.name as string,
    domainId: value.domainId === undefined ? undefined! : requireId(String(value.domainId), "domainId"),
    description: value.description as string | null | undefined,
    locale: value.locale as string | null | undefined,
    aliases: value.aliases as string[] | undefined,
    password: credentials ? credentials[0]?.secret ?? null : undefined,
    revokeAppPasswords: credentials?.[0]?.revokeAppPasswords,
    quotas: value.quotas as AccountInput["quotas"],
    roles: value.roles as AccountInput["roles"],
    memberGroupIds: (value.memberGroupIds as string[] | undefined)?.map((g) =>
      requireId(g, "memberGroupIds")
    ),
    sendAsGroupIds: (value.sendAsGroupIds as string[] | undefined)?.map((g) =>
      requireId(g, "sendAsGroupIds")
    ),
    forwardTo: value.forwardTo as string[] | undefined,
    forwardKeepCopy: value.forwardKeepCopy as boolean | undefined,
    enabled: value.enabled as boolean | undefined,
  };
}
