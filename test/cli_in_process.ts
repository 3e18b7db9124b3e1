/**
 * The postern CLI run inside the test process: the same command table (main.ts's runCli), the same
 * commands, with standard output and error captured and the exit code returned instead of ending the
 * process. A new `deno run main.ts` costs most of a second before the command starts; tests about a
 * command's behaviour use this, and a few tests per command family keep a real process (helpers.ts's
 * `cli`) for what only a process shows: its exit status and its own stdout and stderr.
 */
import { runCli } from "../main.ts";

/**
 * Runs `postern ARGS` in-process with `env` added to the test's environment (NO_COLOR set, no
 * terminal, empty standard input), as helpers.ts's `cli` does in a new process; returns the same shape.
 */
export async function cliInProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  let code: number;
  try {
    code = await runCli(args, {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      env: { ...Deno.env.toObject(), NO_COLOR: "1", ...env },
      stdin: () => new Blob([]).stream(),
      stdinIsTerminal: false,
      stdoutIsTerminal: false,
    });
  } catch (error) {
    // What would have been an uncaught error of the process: its stack on stderr, exit code 1.
    stderr += `${error instanceof Error ? error.stack : String(error)}\n`;
    code = 1;
  }
  return { code, stdout, stderr };
}
