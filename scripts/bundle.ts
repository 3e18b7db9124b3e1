// Builds dist/postern.js, one self-contained file runnable with `deno run -A dist/postern.js`: the offline
// artifact for machines where `deno compile` cannot fetch denort.
//
// Usage: deno task bundle [entry = main.ts] [output = dist/postern.js]
//
// `deno bundle` inlines every static import but not worker modules, and a single file has no
// src/auth/hash_worker.ts or src/mail/parse_worker.ts beside it to load. So each worker is bundled on its
// own first and its source is stored on globalThis ahead of the main bundle, where password_hasher.ts and
// parse_pool.ts find it and start the worker from a data: URL.

import { fileURLToPath } from "node:url";
import { EMBEDDED_HASH_WORKER_KEY } from "../src/auth/password_hasher.ts";
import { EMBEDDED_PARSE_WORKER_KEY } from "../src/mail/parse_pool.ts";
import { EMBEDDED_RSA_SIGN_WORKER_KEY } from "../src/mail/rsa_sign_pool.ts";
import { EMBEDDED_INDEX_WORKER_KEY } from "../src/mail/search_indexer.ts";
import { EMBEDDED_CHECKPOINT_WORKER_KEY } from "../src/store/checkpointer.ts";
import { EMBEDDED_INTEGRITY_WORKER_KEY } from "../src/store/startup_check.ts";
import { EMBEDDED_READ_WORKER_KEY } from "../src/store/read_pool.ts";

const root = new URL("../", import.meta.url);
/** Each worker entry and the `Symbol.for` key its starter looks for. */
const workers = [
  { entry: "src/auth/hash_worker.ts", key: EMBEDDED_HASH_WORKER_KEY },
  { entry: "src/mail/parse_worker.ts", key: EMBEDDED_PARSE_WORKER_KEY },
  { entry: "src/mail/rsa_sign_worker.ts", key: EMBEDDED_RSA_SIGN_WORKER_KEY },
  { entry: "src/mail/search_index_worker.ts", key: EMBEDDED_INDEX_WORKER_KEY },
  { entry: "src/store/checkpoint_worker.ts", key: EMBEDDED_CHECKPOINT_WORKER_KEY },
  { entry: "src/store/integrity_worker.ts", key: EMBEDDED_INTEGRITY_WORKER_KEY },
  { entry: "src/store/read_worker.ts", key: EMBEDDED_READ_WORKER_KEY },
];

// A bundle that holds CommonJS packages (libmime, in the parse worker) makes `require` from its own URL,
// which a data: URL cannot be; the package requires only node: built-ins, which resolve from any base.
const REQUIRE_FROM_MODULE = "__deno_internal_createRequire(import.meta.url)";
const REQUIRE_FROM_ROOT = '__deno_internal_createRequire("file:///")';

// Packages `deno bundle` cannot inline (mailauth's `require("../package")` has no extension and the
// bundler does not probe for package.json): left as imports of their pinned npm: specifier, which
// Deno resolves from its npm cache when the code that needs them first runs (src/mail/authentication.ts
// imports mailauth lazily, so a bundle without an MX never does).
const EXTERNAL_PACKAGES = ["mailauth"];

/** Bundles `entry` (relative to the project root) into one JavaScript file with its workers embedded. */
export async function bundle(entry = "main.ts", output = "dist/postern.js"): Promise<string> {
  const scratch = await Deno.makeTempDir({ prefix: "postern-bundle-" });
  try {
    // Minified because it is embedded as a string literal that nobody reads.
    const sources: { key: string; source: string }[] = [];
    for (const { entry, key } of workers) {
      const name = entry.slice(entry.lastIndexOf("/") + 1).replace(/\.ts$/, ".js");
      const source = await runDenoBundle(entry, `${scratch}/${name}`, ["--minify"]);
      sources.push({ key, source: source.replaceAll(REQUIRE_FROM_MODULE, REQUIRE_FROM_ROOT) });
    }
    const external = EXTERNAL_PACKAGES.flatMap((name) => ["--external", name]);
    const main = pinExternals(await runDenoBundle(entry, `${scratch}/main.js`, external));
    const outputUrl = new URL(output, root);
    await Deno.mkdir(new URL(".", outputUrl), { recursive: true });
    await Deno.writeTextFile(outputUrl, embedWorkers(main, sources));
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

/** Each external package's bare imports (and of its subpaths) rewritten to the npm: specifier deno.json pins. */
function pinExternals(source: string): string {
  const imports = JSON.parse(Deno.readTextFileSync(new URL("deno.json", root))).imports as Record<
    string,
    string
  >;
  let out = source;
  for (const name of EXTERNAL_PACKAGES) {
    // The package itself and its modules (src/mail/dkim_mailauth.ts imports some by path).
    const specifier = new RegExp(`(import\\(|from )"${name}(/[^"]*)?"`, "g");
    out = out.replace(
      specifier,
      (_, before, path = "") => `${before}${JSON.stringify(imports[name] + path)}`,
    );
  }
  return out;
}

// The assignment must run before any code that could start a worker. Modules the bundle still imports
// (node: built-ins) are evaluated earlier, but cannot reach the hasher, so first (after a shebang) is enough.
function embedWorkers(main: string, sources: { key: string; source: string }[]): string {
  const shebang = main.startsWith("#!") ? main.slice(0, main.indexOf("\n") + 1) : "";
  const assignments = sources.map(({ key, source }) =>
    `globalThis[Symbol.for(${JSON.stringify(key)})] = ${JSON.stringify(source)};\n`
  );
  return shebang + assignments.join("") + main.slice(shebang.length);
}

if (import.meta.main) {
  const [entry, output] = Deno.args;
  const written = await bundle(entry, output);
  const { size } = await Deno.stat(written);
  console.log(`Wrote ${written} (${(size / 1024).toFixed(0)} KiB)`);
}
