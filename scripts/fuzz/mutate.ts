/**
 * Mutations of valid JSON templates: a value replaced by one of the wrong type or an edge value, a
 * property dropped, an unknown or Object.prototype-named property added, a list emptied or grown.
 * The template itself is never changed (it is copied first).
 */
import { oddString, oddValue, PROTOTYPE_NAMES, type Random } from "./random.ts";

/** A mutated copy of `template`: `rounds` changes at random places (at least one). */
export function mutate(rng: Random, template: unknown, rounds = rng.int(1, 3)): unknown {
  let value = structuredClone(template);
  for (let i = 0; i < rounds; i++) {
    const changed = mutateOnce(rng, value);
    value = changed === DROP ? null : changed;
  }
  return value;
}

function mutateOnce(rng: Random, value: unknown): unknown {
  // Walk down a random path, then change what is there.
  if (isContainer(value) && rng.chance(0.75)) {
    const keys = Object.keys(value);
    if (keys.length > 0) {
      const key = rng.pick(keys);
      const record = value as Record<string, unknown>;
      const changed = mutateOnce(rng, record[key]);
      if (changed === DROP) {
        if (Array.isArray(value)) value.splice(Number(key), 1);
        else delete record[key];
      } else record[key] = changed;
      return value;
    }
  }
  return change(rng, value);
}

const DROP = Symbol("drop");

function change(rng: Random, value: unknown): unknown {
  switch (rng.int(0, 7)) {
    case 0:
      return DROP;
    case 1:
    case 2:
      return oddValue(rng);
    case 3:
      if (isContainer(value) && !Array.isArray(value)) {
        // defineProperty: a plain assignment of "__proto__" would set the prototype, not send the key.
        Object.defineProperty(value, rng.chance(0.6) ? rng.pick(PROTOTYPE_NAMES) : oddString(rng, 200), {
          value: oddValue(rng),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        return value;
      }
      return oddValue(rng);
    case 4:
      if (Array.isArray(value)) return rng.chance(0.5) ? [] : [...value, ...value, oddValue(rng)];
      return [value];
    case 5:
      // JSON, not String(): an object may have been given an own "toString" that is not a function.
      return typeof value === "string" ? value + oddString(rng, 5000) : JSON.stringify(value) ?? "undefined";
    case 6:
      return typeof value === "number" ? -value : { value };
    default:
      return rng.chance(0.5) ? null : typeof value === "number" ? String(value) : 0;
  }
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === "object" && value !== null;
}
