/** CLI plumbing: global options, output as a table or JSON, errors as messages and exit codes. */
import Table from "cli-table3";
import { type Config, ConfigError, type ConfigInput, resolveConfig } from "../config/mod.ts";
import { AuthError, DomainError, InvalidInputError, UnavailableError } from "../model/errors.ts";

/** Options every command accepts, before or after the verb. */
export interface GlobalOptions {
  data?: string;
  json?: boolean;
}

/** A usage mistake: exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The configuration for a command, from its global options and the environment. */
export function configFrom(options: GlobalOptions & ConfigInput): Config {
  return resolveConfig(options, Deno.env.toObject());
}

/** Prints a value as JSON (scripts) or as a table/list (people). */
export function output(value: unknown, options: GlobalOptions & { columns?: string[] } = {}): void {
  if (options.json) {
    console.log(JSON.stringify(value, null, 2));
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      console.log("(none)");
      return;
    }
    const columns = options.columns ?? Object.keys(value[0] as object);
    const table = new Table({ head: columns, style: { head: Deno.noColor ? [] : ["cyan"], border: [] } });
    for (const row of value as Record<string, unknown>[]) table.push(columns.map((c) => cell(row[c])));
    console.log(table.toString());
    return;
  }
  if (value && typeof value === "object") {
    const table = new Table({ style: { head: [], border: [] } });
    for (const [key, v] of Object.entries(value)) table.push({ [key]: cell(v) });
    console.log(table.toString());
    return;
  }
  console.log(String(value));
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") {
    const entries = Object.values(value as object);
    const isKeyedList = Object.keys(value as object).every((k) => /^\d+$/.test(k));
    if (isKeyedList && entries.every((e) => typeof e !== "object")) return entries.join(", ");
    return JSON.stringify(value);
  }
  return String(value);
}

/** Runs a command body, printing errors in words and exiting 1 (failure) or 2 (usage). */
export async function run(body: () => Promise<void>, options: GlobalOptions = {}): Promise<void> {
  try {
    await body();
  } catch (error) {
    const usage = error instanceof UsageError || error instanceof ConfigError;
    const message = error instanceof Error ? error.message : String(error);
    if (options.json) {
      const problems = error instanceof InvalidInputError ? error.problems : undefined;
      console.error(
        JSON.stringify({ error: error instanceof Error ? error.name : "Error", message, problems }),
      );
    } else {
      console.error(`postern: ${message}`);
      if (error instanceof InvalidInputError) {
        for (const p of error.problems) {
          if (p.property && p.message !== message) console.error(`  ${p.property}: ${p.message}`);
        }
      }
      // A busy database (another process's long write) is explained by its message, not a stack.
      if (
        !(error instanceof DomainError || error instanceof AuthError || error instanceof UnavailableError ||
          usage)
      ) {
        console.error(error instanceof Error && error.stack ? error.stack : "");
      }
    }
    Deno.exit(usage ? 2 : 1);
  }
}
