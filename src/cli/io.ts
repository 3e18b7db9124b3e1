/** CLI plumbing: global options, output as a table or JSON, errors as messages and exit codes. */
import Table from "cli-table3";
import { type Config, ConfigError, type ConfigInput, resolveConfig } from "../config/mod.ts";
import { AuthError, DomainError, InvalidInputError, UnavailableError } from "../model/errors.ts";
import { complain, exit, ExitRequest, say, streams } from "./streams.ts";

/** Options every command accepts, before or after the verb. */
export interface GlobalOptions {
  data?: string;
  json?: boolean;
}

/**
 * The CLI's exit codes: 0 done; 1 the operation failed (refused, not found, invalid object, busy
 * database, refused credentials); 2 a usage mistake (unknown option, type, field, filter or action, bad
 * JSON, no database at --data); 3 the server could not be reached.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, connection: 3 } as const;

/** A usage mistake: exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The server could not be reached: exit code 3. */
export class ConnectionError extends Error {
  override name = "ConnectionError";
}

/** The widest a table is drawn: 100 columns, or the terminal's width when narrower. */
function maxWidth(): number {
  try {
    if (streams().stdoutIsTerminal) return Math.min(100, Deno.consoleSize().columns);
  } catch {
    // No console size (a pipe): the default.
  }
  return 100;
}

/** Wraps text at word boundaries to lines of at most maxWidth() columns. */
export function wrap(text: string, width = maxWidth()): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join("\n");
}

/** Colour only for a person at a terminal, and never when NO_COLOR is set. */
function colour(): boolean {
  return !Deno.noColor && streams().stdoutIsTerminal;
}

/**
 * Column widths that keep a table within maxWidth(): the widest columns give way first (their text
 * wraps); a table that already fits keeps its natural widths.
 */
export function fitWidths(rows: string[][], limit = maxWidth()): number[] | undefined {
  const count = Math.max(0, ...rows.map((r) => r.length));
  // Each cell has one space of padding either side and one border character before it.
  const widths = Array.from(
    { length: count },
    (_, i) => Math.max(1, ...rows.map((r) => longestLine(r[i] ?? ""))) + 2,
  );
  const total = () => widths.reduce((a, b) => a + b, 0) + count + 1;
  if (total() <= limit) return undefined;
  while (total() > limit) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest] <= 8) break;
    widths[widest]--;
  }
  return widths;
}

function longestLine(text: string): number {
  return Math.max(...text.split("\n").map((l) => l.length));
}

function table(rows: string[][], head?: string[]): InstanceType<typeof Table> {
  const colWidths = fitWidths(head ? [head, ...rows] : rows);
  return new Table({
    ...(head ? { head } : {}),
    ...(colWidths ? { colWidths, wordWrap: true, wrapOnWordBoundary: true } : {}),
    style: { head: colour() ? ["cyan"] : [], border: [] },
  });
}

/** The configuration for a command, from its global options and the environment. */
export function configFrom(options: GlobalOptions & ConfigInput): Config {
  return resolveConfig(options, streams().env);
}

/** Prints a value as JSON (scripts) or as a table/list (people). */
export function output(value: unknown, options: GlobalOptions & { columns?: string[] } = {}): void {
  if (options.json) {
    say(JSON.stringify(value, null, 2));
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      say("(none)");
      return;
    }
    const columns = options.columns ?? Object.keys(value[0] as object);
    const rows = (value as Record<string, unknown>[]).map((row) => columns.map((c) => cell(row[c])));
    const drawn = table(rows, columns);
    drawn.push(...rows);
    say(drawn.toString());
    return;
  }
  if (value && typeof value === "object") {
    const rows = Object.entries(value).map(([key, v]) => [key, cell(v)]);
    const drawn = table(rows);
    drawn.push(...rows);
    say(drawn.toString());
    return;
  }
  say(String(value));
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

/** The exit code of an error, and whether it is ordinary (one line, no stack). */
function classify(error: unknown): { code: number; ordinary: boolean } {
  if (error instanceof UsageError || error instanceof ConfigError) {
    return { code: EXIT.usage, ordinary: true };
  }
  if (error instanceof ConnectionError) return { code: EXIT.connection, ordinary: true };
  if (error instanceof AuthError) return { code: EXIT.failure, ordinary: true };
  // A busy database (another process's long write) is explained by its message, not a stack; so are
  // refusals of the operating system (a data directory that cannot be read).
  const ordinary = error instanceof DomainError || error instanceof UnavailableError ||
    error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied;
  return { code: EXIT.failure, ordinary };
}

/** Runs a command body, printing errors in words and ending with a code of EXIT (see streams.ts's exit). */
export async function run(body: () => Promise<void>, options: GlobalOptions = {}): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof ExitRequest) throw error;
    const { code, ordinary } = classify(error);
    const message = error instanceof Error ? error.message : String(error);
    if (options.json) {
      const problems = error instanceof InvalidInputError ? error.problems : undefined;
      complain(
        JSON.stringify({ error: error instanceof Error ? error.name : "Error", message, problems }),
      );
    } else {
      complain(`postern: ${message}`);
      if (error instanceof InvalidInputError) {
        // Each problem once: those the message already states are not repeated below it.
        for (const p of error.problems) {
          if (p.property && !message.includes(p.message)) complain(`  ${p.property}: ${p.message}`);
        }
      }
      // Anything else is a fault in Postern: its stack helps the report.
      if (!ordinary) complain(error instanceof Error && error.stack ? error.stack : "");
    }
    exit(code);
  }
}
