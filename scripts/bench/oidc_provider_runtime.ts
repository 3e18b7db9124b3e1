/**
 * Where figure 6's baseline runs. node-oidc-provider is a Node.js library ("Use Node.js v22.x LTS, or
 * a later LTS release", it warns on any other runtime), so its users run it on Node, and so does the
 * benchmark: on a pinned Node.js LTS fetched through npm (`npx node@…`, the way Deno itself comes from
 * npm here), else on this machine's own `node`, from a node_modules that Deno installs out of its cache
 * with the repository's lockfile (the same oidc-provider, koa and jose as `deno run` would load). A
 * package.json in the repository would switch Deno to manual node_modules, so it all happens in the
 * benchmark's temporary directory.
 */
import type { ProcessGroup } from "./processes.ts";
import { repoPath } from "./processes.ts";

/** The Node.js the baseline runs on: the Active LTS line ("Krypton") when this was pinned. */
export const NODE_PACKAGE = "node@24.21.0";
const SERVER_SCRIPT = "oidc_provider_server.mjs";
/** Fetching Node.js once (about 30 MB through npm) may take a while; later runs find it in npm's cache. */
const FETCH_TIMEOUT_MS = 300_000;

/** A Node.js ready to run the baseline server: the binary, its version, and the server's directory. */
export interface NodeRuntime {
  executable: string;
  version: string;
  /** Its LTS codename, null for a release that is not LTS. */
  lts: string | null;
  /** Whether oidc-provider supports it (an LTS from "Jod", v22, on: its own start-up check). */
  supported: boolean;
  /** Holds the server script and the node_modules it imports oidc-provider from. */
  dir: string;
  script: string;
}

/**
 * Finds a Node.js and installs oidc-provider for it under `tmp`; the reason in `failed` when neither
 * the pinned nor the local Node.js can be used.
 */
export async function prepareNode(
  group: ProcessGroup,
  tmp: string,
): Promise<NodeRuntime | { failed: string }> {
  let found: Awaited<ReturnType<typeof describeNode>>;
  try {
    found = await pinnedNode(group);
  } catch (pinned) {
    try {
      found = await localNode(group);
    } catch (local) {
      return {
        failed: `${NODE_PACKAGE} through npx: ${(pinned as Error).message}; node on PATH: ${
          (local as Error).message
        }`,
      };
    }
    console.log(
      `NOTE: ${NODE_PACKAGE} through npx failed (${firstLine(pinned as Error)}); using node on PATH`,
    );
  }
  const dir = `${tmp}/oidc-provider-node`;
  const oidcProvider = JSON.parse(await Deno.readTextFile(repoPath("deno.json"))).imports["oidc-provider"];
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/deno.json`,
    JSON.stringify({ imports: { "oidc-provider": oidcProvider }, nodeModulesDir: "auto" }),
  );
  await Deno.copyFile(repoPath("deno.lock"), `${dir}/deno.lock`);
  await Deno.copyFile(repoPath(`scripts/bench/${SERVER_SCRIPT}`), `${dir}/${SERVER_SCRIPT}`);
  try {
    await group.run("deno install", Deno.execPath(), ["install", "--entrypoint", SERVER_SCRIPT], {
      cwd: dir,
      timeoutMs: FETCH_TIMEOUT_MS,
    });
  } catch (error) {
    return { failed: `installing ${oidcProvider} for Node.js: ${firstLine(error as Error)}` };
  }
  return { ...found, dir, script: SERVER_SCRIPT };
}

/** The pinned Node.js, through npx (npm's cache first). */
async function pinnedNode(group: ProcessGroup) {
  return await describeNode(group, "npx", ["--prefer-offline", "-y", NODE_PACKAGE]);
}

/** The `node` on PATH. */
async function localNode(group: ProcessGroup) {
  return await describeNode(group, "node", []);
}

async function describeNode(group: ProcessGroup, command: string, prefix: string[]) {
  const printed = await group.run(command, command, [
    ...prefix,
    "-p",
    'JSON.stringify([process.execPath, process.version, process.release.lts ?? null, typeof Deno !== "undefined"])',
  ], { timeoutMs: FETCH_TIMEOUT_MS });
  const [executable, version, lts, deno] = JSON.parse(printed.trim().split("\n").at(-1)!) as [
    string,
    string,
    string | null,
    boolean,
  ];
  // Deno runs itself when asked to spawn a `node` it cannot find: that is not Node.js.
  if (deno) throw new Error(`"${command}" is Deno (${executable}), not Node.js`);
  return { executable, version, lts, supported: lts !== null && lts.charCodeAt(0) >= "J".charCodeAt(0) };
}

function firstLine(error: Error): string {
  return error.message.split("\n")[0];
}
