/**
 * Management /set: every `x:` type and settings singleton of src/model/objects (read from the
 * declarations, so a type or field added later is fuzzed too) with created objects built from the
 * declared fields, then mutated, and updates as whole values and as JSON-pointer patches, with
 * Object.prototype names as properties; as the admin and as the plain user.
 */
import { type FieldSpec, OBJECT_SPECS, type ObjectSpec } from "../../src/model/objects/mod.ts";
import {
  type FuzzContext,
  jmapRequest,
  remember,
  responsesOf,
  someActor,
  someId,
  type Surface,
} from "./context.ts";
import { mutate } from "./mutate.ts";
import { oddNumber, oddString, oddValue, PROTOTYPE_NAMES, type Random } from "./random.ts";

/** One x:…/set call, sometimes followed by a /get of what it touched. */
export const managementSurface: Surface = async (rng, ctx) => {
  const spec = rng.pick(Object.values(OBJECT_SPECS));
  const type = `x:${spec.name}`;
  const actor = someActor(rng, ctx);
  const args: Record<string, unknown> = {
    accountId: rng.chance(0.9) ? actor.accountId : someId(rng, ctx, "account"),
  };
  if (spec.singleton) {
    args.update = { singleton: patch(rng, ctx, spec) };
  } else {
    if (rng.chance(0.6)) {
      args.create = {
        n1: created(rng, ctx, spec),
        ...(rng.chance(0.2) ? { n2: created(rng, ctx, spec) } : {}),
      };
    }
    if (rng.chance(0.4)) {
      args.update = { [rng.chance(0.1) ? "#n1" : someId(rng, ctx, type)]: patch(rng, ctx, spec) };
    }
    if (rng.chance(0.2)) args.destroy = [rng.chance(0.1) ? "#n1" : someId(rng, ctx, type)];
  }
  if (rng.chance(0.2)) {
    Object.defineProperty(args, rng.pick(PROTOTYPE_NAMES), { value: oddValue(rng), enumerable: true });
  }
  const answer = await ctx.client.send(jmapRequest(ctx, actor, {
    using: ctx.server.capabilities,
    methodCalls: [
      [`${type}/set`, args, "0"],
      [`${type}/get`, { accountId: actor.accountId, ids: spec.singleton ? ["singleton"] : null }, "1"],
    ],
  }));
  const created0 = responsesOf(answer.json)[0]?.[1]?.created;
  if (created0 && typeof created0 === "object") {
    for (const object of Object.values(created0 as Record<string, { id?: unknown }>)) {
      remember(ctx, type, object?.id);
    }
  }
};

function fieldsOf(spec: ObjectSpec, variant?: string): [string, FieldSpec][] {
  return Object.entries(spec.fields).filter(([, f]) =>
    !f.variants || !variant || f.variants.includes(variant)
  );
}

/** A new object: the required fields, a few others, from the declared types; then mutated. */
function created(rng: Random, ctx: FuzzContext, spec: ObjectSpec): unknown {
  const variant = spec.variants ? rng.pick(spec.variants) : undefined;
  const object: Record<string, unknown> = variant && rng.chance(0.9) ? { "@type": variant } : {};
  for (const [name, field] of fieldsOf(spec, variant)) {
    if (field.serverSet && rng.chance(0.95)) continue;
    if (field.required || rng.chance(0.3)) object[name] = valueOf(rng, ctx, spec, name, field);
  }
  return rng.chance(0.6) ? mutate(rng, object) : object;
}

/** An update: whole values by name, or JSON-pointer paths into lists and objects. */
function patch(rng: Random, ctx: FuzzContext, spec: ObjectSpec): unknown {
  const out: Record<string, unknown> = {};
  const fields = fieldsOf(spec);
  for (let i = rng.int(1, 3); i > 0; i--) {
    const [name, field] = rng.pick(fields);
    const value = rng.chance(0.6) ? valueOf(rng, ctx, spec, name, field) : oddValue(rng);
    const key = rng.chance(0.6) ? name : pointer(rng, name);
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return rng.chance(0.3) ? mutate(rng, out) : out;
}

function pointer(rng: Random, name: string): string {
  return rng.pick([
    `${name}/0`,
    `${name}/1`,
    `${name}/-1`,
    `${name}/9999`,
    `${name}/maxDiskQuota`,
    `${name}/0/secret`,
    `${name}/${rng.pick(PROTOTYPE_NAMES)}`,
    `${name}/~0~1`,
    `${name}//`,
    `/${name}`,
    `${name}/a/b/c/d`,
    `${rng.pick(PROTOTYPE_NAMES)}/${name}`,
    rng.pick(PROTOTYPE_NAMES),
    "",
  ]);
}

/** A value for a field: mostly plausible for its declared type, sometimes not. */
function valueOf(rng: Random, ctx: FuzzContext, spec: ObjectSpec, name: string, field: FieldSpec): unknown {
  if (rng.chance(0.15)) return oddValue(rng);
  if (field.enum && rng.chance(0.5)) {
    return field.type.startsWith("List") ? [rng.pick(field.enum)] : rng.pick(field.enum);
  }
  const base = field.type.replace(/\?$/, "").replace(/<.*>$/, "");
  switch (base) {
    case "String":
      if (spec.name === "Domain" && name === "name") return `fuzz${rng.int(0, 1e6)}.example`;
      if (name === "name") return `fuzz${rng.int(0, 1e6)}`;
      return rng.chance(0.5) ? `fuzz ${name}` : oddString(rng, 1000);
    case "Id":
      return name === "domainId"
        ? ctx.server.domainId
        : someId(rng, ctx, field.type.includes("Account") ? "x:Account" : "x:Domain");
    case "Boolean":
      return rng.chance(0.5);
    case "UnsignedInt":
      return rng.chance(0.5) ? rng.int(0, 100) : oddNumber(rng);
    case "Duration":
      return rng.pick(["1h", "30m", "0s", "1d", "10", "1y", "-1h", "99999999d"]);
    case "UTCDate":
      return rng.pick(["2030-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "not a date"]);
    case "List":
      return rng.pick([
        [],
        { "0": listItem(rng, ctx, field) },
        [listItem(rng, ctx, field), listItem(rng, ctx, field)],
        Array.from({ length: rng.pick([100, 101, 1001]) }, () => listItem(rng, ctx, field)),
      ]);
    case "Quotas":
      return { maxDiskQuota: oddNumber(rng), maxMailboxes: rng.int(0, 100) };
    case "SecretKey":
      return rng.pick([
        { "@type": "Value", secret: "k".repeat(64) },
        { "@type": "EnvironmentVariable", variableName: "POSTERN_FUZZ_UNSET" },
        { "@type": "File", path: "/nonexistent/key" },
        null,
      ]);
    default:
      return oddValue(rng);
  }
}

function listItem(rng: Random, ctx: FuzzContext, field: FieldSpec): unknown {
  const item = /^List<(.*)>$/.exec(field.type)?.[1] ?? "";
  if (field.enum) return rng.pick(field.enum);
  if (item === "Credential") {
    return { "@type": "Password", secret: rng.chance(0.8) ? "a fuzz password long enough" : oddString(rng) };
  }
  if (item.startsWith("Id")) return someId(rng, ctx, "x:Account");
  if (item === "Uri") {
    return rng.pick(["https://app.example.org/cb", "http://127.0.0.1/cb", "javascript:x", "not a uri"]);
  }
  return rng.chance(0.7) ? `fuzz${rng.int(0, 1e6)}@example.org` : oddString(rng, 300);
}
