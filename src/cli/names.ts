/**
 * Names where ids are expected: `get account alice`, `--field domainId=example.org`,
 * `--where memberOf=staff`. A text that is the id of an existing object is that object; otherwise it
 * is looked up by the type's name (login name or address, domain name, client id or client name).
 */
import { resolveObjectType, type WireObject } from "../directory/mod.ts";
import { DomainError, NotFoundError } from "../model/errors.ts";
import type { ObjectClient } from "./client.ts";

/** The filters that find an object of a type by what a person calls it, tried in order. */
type Filter = Record<string, string>;
const NAME_FILTERS: Record<string, (text: string) => Filter[]> = {
  Account: (text) => [text.includes("@") ? { emailAddress: text } as Filter : { name: text.toLowerCase() }],
  Domain: (text) => [{ name: text.toLowerCase() }],
  OAuthClient: (text) => [{ clientId: text } as Filter, { name: text }],
};

/** The type an id-valued field or filter refers to (`Id<Domain>` → domain), if any. */
export function referencedType(typePath: string, name: string): string | undefined {
  if (name === "memberOf") return "account";
  const field = resolveObjectType(typePath).spec.fields[name];
  return field?.type.match(/\bId<(\w+)>/)?.[1].toLowerCase();
}

/** The id of the object `text` names: its id, or its name. */
export async function resolveRef(client: ObjectClient, typePath: string, text: string): Promise<string> {
  const { spec } = resolveObjectType(typePath);
  if (spec.singleton) return text;
  try {
    return (await client.get(spec.name.toLowerCase(), text)).id as string;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  const type = spec.name.toLowerCase();
  const label = typePath.split("/")[0];
  for (const filter of NAME_FILTERS[spec.name]?.(text) ?? []) {
    const found: WireObject[] = await client.query(type, filter);
    if (found.length === 1) return found[0].id as string;
    if (found.length > 1) {
      throw new DomainError(`"${text}" names ${found.length} ${label}s; give the id instead`);
    }
  }
  throw new NotFoundError(spec.name, text);
}

/** Replaces names by ids in the id-valued values of `values` (a single id or a list of them). */
export async function resolveRefs(
  client: ObjectClient,
  typePath: string,
  values: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...values };
  for (const [name, value] of Object.entries(values)) {
    const target = referencedType(typePath, name);
    if (!target) continue;
    const one = (v: unknown) => typeof v === "string" ? resolveRef(client, target, v) : v;
    if (typeof value === "string") out[name] = await resolveRef(client, target, value);
    else if (Array.isArray(value)) out[name] = await Promise.all(value.map(one));
    else if (value && typeof value === "object") {
      // Lists in Stalwart's wire form: objects keyed by index.
      const entries = Object.entries(value);
      out[name] = Object.fromEntries(await Promise.all(entries.map(async ([k, v]) => [k, await one(v)])));
    }
  }
  return out;
}
