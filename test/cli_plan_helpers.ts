/**
 * Helpers of the `apply`/`snapshot` tests: an initialized data directory, a plan run from a file. The
 * CLI runs in-process (cli_in_process.ts).
 */
import assert from "node:assert/strict";
import { cliInProcess as cli } from "./cli_in_process.ts";
import { ADMIN_PASSWORD } from "./helpers.ts";

/** Runs `body` on a data directory made by `postern init --domain example.org`, removed afterwards. */
export async function withInit(
  body: (dir: string, init: { apiKey: string }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "postern-plan-" });
  try {
    const init = await cli(["init", "--data", dir, "--domain", "example.org", "--json"], {
      POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    assert.equal(init.code, 0, init.stderr);
    await body(dir, JSON.parse(init.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `postern ARGS apply FILE EXTRA --json` with `plan` written to a temporary file. */
export async function applyText(args: string[], plan: string, extra: string[] = []) {
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  await Deno.writeTextFile(file, plan);
  try {
    return await cli([...args, "apply", file, ...extra, "--json"]);
  } finally {
    await Deno.remove(file);
  }
}
