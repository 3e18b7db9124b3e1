// Builds dist/postern.js, one self-contained file runnable with `deno run -A dist/postern.js`: the offline
// artifact for machines where `deno compile` cannot fetch denort.
//
// Usage: deno task bundle [entry = main.ts] [output = dist/postern.js]
//
// `deno bundle` inlines every static import but not worker modules, and a single file has no
// src/auth/hash_worker.ts beside it to load. So the worker is bundled on its own first and its source is
// stored on globalThis ahead of the main bundle, where password_hasher.ts finds it and starts the worker
// from a data: URL.

import { fileURLToPath } from "node:url";
import { EMBEDDED_HASH_WORKER_KEY } from "../src/auth/password_hasher.ts";

const root = new URL("../", import.meta.url);
const workerEntry = "src/auth/hash_worker.ts";

/** Bundles `entry` (relative to the project root) into one JavaScript file with the hash worker embedded. */
export async function bundle(entry = "main.ts", output = "dist/postern.js"): Promise<string> {
  const scratch = await Deno.makeTempDir({ prefix: "postern-bundle-" });
  try {
    // Minified because it is embedded as a string literal that nobody reads.
    const worker = await runDenoBundle(workerEntry, `${scratch}/hash_worker.js`, ["--minify"]);
    const main = await runDenoBundle(entry, `${scratch}/main.js`);
    const outputUrl = new URL(output, root);
    await Deno.mkdir(new URL(".", outputUrl), { recursive: true });
    await Deno.writeTextFile(outputUrl, embedWorker(main, worker));
    return fileURLToPath(outputUrl);
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

async function runDenoBundle(entry: string, output: string, extra: string[] = []): Promise<string> {
  // --config because Deno looks for deno.json from the entry's folder, which may be outside the project.
  const args = ["bundle", "--quiet", "--config", "deno.json", "--platform", "deno", ...extra];
  args.push("-o", output, entry);
  const command = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  });
  const { success } = await command.output();
  if (!success) throw new Error(`Cannot bundle "${entry}": deno ${args.join(" ")} failed`);
  return await Deno.readTextFile(output);
}

// The assignment must run before any code that could start a worker. Modules the bundle still imports
// (node: built-ins) are evaluated earlier, but cannot reach the hasher, so first (after a shebang) is enough.
function embedWorker(main: string, worker: string): string {
  const shebang = main.startsWith("#!") ? main.slice(0, main.indexOf("\n") + 1) : "";
  const assignment = `globalThis[Symbol.for(${JSON.stringify(EMBEDDED_HASH_WORKER_KEY)})] = ${
    JSON.stringify(worker)
  };\n`;
  return shebang + assignment + main.slice(shebang.length);
}

if (import.meta.main) {
  const [entry, output] = Deno.args;
  const written = await bundle(entry, output);
  const { size } = await Deno.stat(written);
  console.log(`Wrote ${written} (${(size / 1024).toFixed(0)} KiB)`);
}
