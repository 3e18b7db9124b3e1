/** Result references (RFC 8620 §3.7): `#name` arguments filled from earlier responses. */
import { MethodError } from "./errors.ts";
import { evaluatePointer, PointerError } from "../model/json_pointer.ts";
import type { Invocation } from "./types.ts";

/** Replaces every `#arg` reference in `args` by the value it points at. */
export function resolveReferences(
  args: Record<string, unknown>,
  responses: Invocation[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (!key.startsWith("#")) {
      out[key] = value;
      continue;
    }
    const name = key.slice(1);
    if (Object.hasOwn(args, name)) {
      throw new MethodError("invalidArguments", `Both "${name}" and "#${name}" are given`);
    }
    out[name] = resolveOne(key, value, responses);
  }
  return out;
}

function resolveOne(key: string, reference: unknown, responses: Invocation[]): unknown {
  if (
    reference === null || typeof reference !== "object" ||
    typeof (reference as Record<string, unknown>).resultOf !== "string" ||
    typeof (reference as Record<string, unknown>).name !== "string" ||
    typeof (reference as Record<string, unknown>).path !== "string"
  ) {
    throw new MethodError(
      "invalidResultReference",
      `"${key}" must be a ResultReference {resultOf, name, path}`,
    );
  }
  const { resultOf, name, path } = reference as { resultOf: string; name: string; path: string };
  const source = responses.find(([, , callId]) => callId === resultOf);
  if (!source) {
    throw new MethodError("invalidResultReference", `"${key}": no earlier call has id "${resultOf}"`);
  }
  if (source[0] !== name) {
    throw new MethodError(
      "invalidResultReference",
      `"${key}": call "${resultOf}" answered "${source[0]}", not "${name}"`,
    );
  }
  try {
    return evaluatePointer(source[1], path);
  } catch (error) {
    if (error instanceof PointerError) {
      throw new MethodError("invalidResultReference", `"${key}": ${error.message}`);
    }
    throw error;
  }
}
