/**
 * Reading a real server's stderr as JSON log lines, matching them with the shipped fail2ban filter, and
 * running a `postern serve` that must not start.
 */
import assert from "node:assert/strict";
import "./child_coverage.ts";

/** One JSON log line as Postern writes it (LogTape's JSON lines, message rendered as text). */
export interface LogLine {
  "@timestamp": string;
  level: string;
  message: string;
  logger: string;
  properties?: Record<string, unknown>;
}

/** Every non-empty stderr line, each asserted to be one JSON log record. */
export function jsonLines(stderr: string): LogLine[] {
  return stderr.split("\n").filter((line) => line !== "").map((line) => {
    let record: LogLine;
    try {
      record = JSON.parse(line);
    } catch {
      throw new assert.AssertionError({ message: `A stderr line is not JSON: ${line}` });
    }
    for (const field of ["@timestamp", "level", "message", "logger"] as const) {
      assert.equal(typeof record[field], "string", `${field} missing in ${line}`);
    }
    return record;
  });
}

const FILTER = new URL("../deploy/fail2ban/filter.d/postern.conf", import.meta.url).pathname;

/**
 * The addresses the shipped fail2ban filter finds in these log lines: with fail2ban-regex (Debian
 * package fail2ban) when it is installed, else with the filter's failregex and <HOST> replaced by an
 * address pattern (a stand-in for fail2ban's own substitution; `tool` says which ran).
 */
export async function fail2banHosts(lines: string[]): Promise<{ hosts: string[]; tool: string }> {
  const file = await Deno.makeTempFile({ prefix: "postern-f2b-", suffix: ".log" });
  try {
    await Deno.writeTextFile(file, lines.join("\n") + "\n");
    const output = await new Deno.Command("fail2ban-regex", {
      args: ["-o", "ip", file, FILTER],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const hosts = new TextDecoder().decode(output.stdout).split("\n").filter(Boolean);
    return { hosts, tool: "fail2ban-regex" };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    const failregex = /^failregex = (.*)$/m.exec(await Deno.readTextFile(FILTER))![1].trimEnd();
    const pattern = new RegExp(failregex.replace("<HOST>", "(?<host>[0-9A-Fa-f:.]*[0-9A-Fa-f])"));
    const hosts = lines.flatMap((line) => {
      const host = pattern.exec(line)?.groups?.host;
      return host === undefined ? [] : [host];
    });
    return { hosts, tool: "regex" };
  } finally {
    await Deno.remove(file);
  }
}

/**
 * Runs `postern serve --domain example.org ARGS` to its end (it must not start; no admin password in
 * the environment, JSON logs at the default level): its exit code and output.
 */
export async function failedStart(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../main.ts", import.meta.url).pathname,
      "serve",
      "--domain",
      "example.org",
      ...args,
    ],
    env: { NO_COLOR: "1", POSTERN_ADMIN_PASSWORD: "", POSTERN_PROCESSES: "1" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}
