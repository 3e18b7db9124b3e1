/**
 * JSON Pointer (RFC 6901) with JMAP's `*` (RFC 8620 §3.7): `*` maps over an array, and arrays
 * produced that way are flattened one level.
 */

/** Thrown when a path does not resolve. */
export class PointerError extends Error {
  override name = "PointerError";
}

function unescape(token: string): string {
  return token.replaceAll("~1", "/").replaceAll("~0", "~");
}

/** Evaluates `path` against `value`; `*` maps over arrays and flattens. */
export function evaluatePointer(value: unknown, path: string): unknown {
  if (path === "") return value;
  if (!path.startsWith("/")) throw new PointerError(`Path "${path}" must start with "/"`);
  return walk(value, path.slice(1).split("/").map(unescape), path);
}

function walk(value: unknown, tokens: string[], path: string): unknown {
  if (tokens.length === 0) return value;
  const [token, ...rest] = tokens;
  if (Array.isArray(value)) {
    if (token === "*") {
      const mapped = value.map((item) => walk(item, rest, path));
      return mapped.flatMap((item) => Array.isArray(item) ? item : [item]);
    }
    if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) >= value.length) {
      throw new PointerError(`Path "${path}": no element "${token}" in an array of ${value.length}`);
    }
    return walk(value[Number(token)], rest, path);
  }
  if (value !== null && typeof value === "object" && Object.hasOwn(value, token)) {
    return walk((value as Record<string, unknown>)[token], rest, path);
  }
  throw new PointerError(`Path "${path}": no property "${token}"`);
}

/**
 * Applies a /set patch (RFC 8620 §5.3): each key is a pointer (without the leading "/") into the
 * object; null removes the value. Returns a new object; throws PointerError naming a bad path.
 */
export function applyPatch(
  object: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out = structuredClone(object);
  const keys = Object.keys(patch);
  for (const key of keys) {
    // A patch may not set a path and also a path inside it (§5.3).
    const prefix = keys.find((other) => other !== key && key.startsWith(other + "/"));
    if (prefix) throw new PointerError(`Patch sets both "${prefix}" and "${key}" inside it`);
  }
  for (const [key, value] of Object.entries(patch)) {
    const tokens = key.split("/").map(unescape);
    let target: Record<string, unknown> = out;
    for (const token of tokens.slice(0, -1)) {
      // Own properties only: a path through "constructor" or "__proto__" must never reach a prototype.
      const next = Object.hasOwn(target, token) ? target[token] : undefined;
      if (next === null || typeof next !== "object" || Array.isArray(next)) {
        throw new PointerError(`Patch path "${key}": "${token}" is not an object`);
      }
      target = next as Record<string, unknown>;
    }
    const last = tokens[tokens.length - 1];
    if (value === null && tokens.length > 1) delete target[last];
    else Object.defineProperty(target, last, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
