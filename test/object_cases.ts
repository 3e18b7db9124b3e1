/**
 * Test cases over every management object type, driven from the declarations: a field added later is
 * covered without touching the tests, and a field of a new declared type makes the tables fail until
 * a wrong (and, for required fields, a valid) value for that type is added. Used by the declaration
 * tests and by the JMAP bad-input tests.
 */
import assert from "node:assert/strict";
import { type FieldSpec, OBJECT_SPECS, type ObjectSpec } from "../src/model/objects/mod.ts";

/** The declared type without nullability or list/id parameters: "List<Id<Account>>" → "List". */
export function baseType(field: FieldSpec): string {
  return field.type.replace(/\?$/, "").replace(/<.*>$/, "");
}

/** The item type of a list: "List<Id<Account>>" → "Id<Account>". */
export function itemType(field: FieldSpec): string {
  return /^List<(.*)>$/.exec(field.type)?.[1] ?? "";
}

/** Values no field of that declared type may accept (all of them JSON: NaN is tested separately). */
export const WRONG_VALUES: Record<string, unknown[]> = {
  Id: [42, true, {}, "", "not an id!", "B"],
  String: [42, true, {}, ["x"]],
  UTCDate: [42, "yesterday", "2027-01-31", "2027-13-45T00:00:00Z", {}],
  List: ["not a list", 42, true, { a: "x" }, { "-1": "x" }],
  Quotas: ["big", 42, [], { maxDiskQuota: -1 }, { maxDiskQuota: "10" }, { unknownLimit: 1 }],
  Boolean: ["yes", "true", 1, 0, {}],
  UnsignedInt: ["10", -1, 1.5, true, {}],
  Duration: ["10", -1, 1.5, true, {}, "1 fortnight", "1y"],
  SecretKey: [
    "a key",
    42,
    { "@type": "Value" },
    { "@type": "Value", secret: "too short" },
    { "@type": "File" },
    { "@type": "EnvironmentVariable", variableName: "not a name" },
    { "@type": "Vault", secret: "x".repeat(40) },
  ],
};

/** A valid value for a required field, by declared type; `domain` names a domain that is still free. */
export function validRequired(
  domain: string,
): Record<string, (field: FieldSpec, spec: ObjectSpec) => unknown> {
  return {
    String: (_field, spec) => spec.name === "Domain" ? domain : "valid",
    Id: () => "b",
  };
}

/** A valid list item, by item type. */
export const VALID_ITEMS: Record<string, (field: FieldSpec) => unknown> = {
  String: () => "alias@example.org",
  "Id<Account>": () => "b",
  Role: (field) => field.enum?.[0],
  GrantType: (field) => field.enum?.[0],
  Scope: (field) => field.enum?.[0],
  Uri: () => "https://app.example.org/callback",
  Credential: () => ({ "@type": "Password", secret: "correct horse battery staple" }),
  Domain: () => "example.net",
  Relay: () => ({ domain: "example.net", host: "127.0.0.1", port: 2525, security: "none" }),
};

/** A string longer than any field allows. */
export const OVERLONG = "x".repeat(100_000);

/** One object type in one variant. */
export interface Case {
  spec: ObjectSpec;
  variant?: string;
  label: string;
  /** Fields that exist in this variant. */
  fields: [string, FieldSpec][];
}

/** Every object type in every variant. */
export function cases(): Case[] {
  return Object.values(OBJECT_SPECS).flatMap((spec) =>
    (spec.variants ?? [undefined]).map((variant) => ({
      spec,
      variant,
      label: variant ? `${spec.name}/${variant}` : spec.name,
      fields: Object.entries(spec.fields).filter(([, f]) =>
        !f.variants || !variant || f.variants.includes(variant)
      ),
    }))
  );
}

/** The smallest object that creates successfully: every required field with a valid value. */
export function minimal(c: Case, options: { domain: string; withType?: boolean }): Record<string, unknown> {
  const valid = validRequired(options.domain);
  const out: Record<string, unknown> = options.withType && c.variant ? { "@type": c.variant } : {};
  for (const [name, field] of c.fields) {
    if (!field.required) continue;
    const make = valid[baseType(field)];
    assert.ok(make, `${c.label}.${name}: add a valid value for type ${field.type} to validRequired`);
    out[name] = make(field, c.spec);
  }
  return out;
}
