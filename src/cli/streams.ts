/**
 * Where a CLI command writes and what it reads from its surroundings: standard output and error, the
 * environment, standard input and whether a person sits at a terminal. A process uses its own (the
 * default); `runCli` in main.ts can run a command in-process with captured streams instead (the tests
 * do, so each call does not pay for a new process). The choice travels with the call's async context, so
 * two in-process commands at once do not mix their output.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** The surroundings of one CLI run. */
export interface CliStreams {
  /** Writes text to standard output as is. */
  stdout(text: string): void;
  /** Writes text to standard error as is. */
  stderr(text: string): void;
  /** The environment the command reads (POSTERN_URL, POSTERN_DATA, …). */
  env: Readonly<Record<string, string | undefined>>;
  /** Standard input, read by `apply -`. */
  stdin(): ReadableStream<Uint8Array>;
  /** Whether standard input and output are terminals (prompts, colour, progress bars, width). */
  stdinIsTerminal: boolean;
  stdoutIsTerminal: boolean;
}

/** A request to end the command with an exit code, without a message: main.ts turns it into the code. */
export class ExitRequest extends Error {
  override name = "ExitRequest";
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Ends the command with `code` (the process's exit code, or runCli's result in-process). */
export function exit(code: number): never {
  throw new ExitRequest(code);
}

const encoder = new TextEncoder();

/**
 * Writes all of `text` (one writeSync may take only part of it on a pipe). A reader that went away
 * (`postern … | head`) gets nothing more and is no error, as with console.log.
 */
function writeAll(to: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  try {
    while (bytes.length) bytes = bytes.subarray(to.writeSync(bytes));
  } catch (error) {
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  }
}

/** The process's own streams and environment, read when asked (a test may change the environment). */
export const PROCESS_STREAMS: CliStreams = {
  stdout: (text) => writeAll(Deno.stdout, text),
  stderr: (text) => writeAll(Deno.stderr, text),
  get env() {
    return Deno.env.toObject();
  },
  stdin: () => Deno.stdin.readable,
  get stdinIsTerminal() {
    return Deno.stdin.isTerminal();
  },
  get stdoutIsTerminal() {
    return Deno.stdout.isTerminal();
  },
};

const current = new AsyncLocalStorage<CliStreams>();

/** The streams of the command running in this async context (the process's outside of `withStreams`). */
export function streams(): CliStreams {
  return current.getStore() ?? PROCESS_STREAMS;
}

/** Runs `body` with `chosen` as the streams every CLI function in it sees. */
export function withStreams<T>(chosen: CliStreams, body: () => Promise<T>): Promise<T> {
  return current.run(chosen, body);
}

/** Prints one line to standard output (as console.log does). */
export function say(line: string): void {
  streams().stdout(`${line}\n`);
}

/** Prints one line to standard error (as console.error does). */
export function complain(line: string): void {
  streams().stderr(`${line}\n`);
}
