/** Typed reading of method arguments; a wrong one is `invalidArguments` naming it. */
import { MethodError } from "../errors.ts";

/** Reads method arguments, refusing unknown ones. */
export class Args {
  constructor(private readonly args: Record<string, unknown>, known: readonly string[], method: string) {
    for (const key of Object.keys(args)) {
      if (!known.includes(key)) {
        throw new MethodError("invalidArguments", `${method} has no argument "${key}"`);
      }
    }
  }

  /** A string, or undefined when absent/null. */
  optionalString(name: string): string | undefined {
    const value = this.args[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") throw invalid(name, "a string");
    return value;
  }

  /** An unsigned integer, or `fallback` when absent/null. */
  unsigned(name: string, fallback: number | undefined): number | undefined {
    const value = this.args[name];
    if (value === undefined || value === null) return fallback;
    if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalid(name, "an unsigned integer");
    return value as number;
  }

  /** An integer (may be negative), or `fallback`. */
  integer(name: string, fallback: number): number {
    const value = this.args[name];
    if (value === undefined || value === null) return fallback;
    if (!Number.isSafeInteger(value)) throw invalid(name, "an integer");
    return value as number;
  }

  /** A boolean, or `fallback`. */
  boolean(name: string, fallback: boolean): boolean {
    const value = this.args[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "boolean") throw invalid(name, "true or false");
    return value;
  }

  /** An array of strings, or null when absent/null. */
  stringList(name: string): string[] | null {
    const value = this.args[name];
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
      throw invalid(name, "an array of strings");
    }
    return value;
  }

  /** An object map, or null when absent/null. */
  map(name: string): Record<string, unknown> | null {
    const value = this.args[name];
    if (value === undefined || value === null) return null;
    if (typeof value !== "object" || Array.isArray(value)) throw invalid(name, "an object");
    return value as Record<string, unknown>;
  }

  /** The raw value. */
  raw(name: string): unknown {
    return this.args[name];
  }
}

function invalid(name: string, expected: string): MethodError {
  return new MethodError("invalidArguments", `"${name}" must be ${expected}`);
}
