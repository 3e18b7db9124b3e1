/**
 * The layer rule (README, Architecture), checked on every import: surfaces never import the store, http/
 * imports no surface or service, model/ imports nothing with I/O, and another folder is entered
 * through its mod.ts (model/ excepted: it is the tiny core everything uses). Import cycles are refused
 * too (scripts/check_cycles.ts).
 */
import { findCycles, importGraph, resolveImport } from "./check_cycles.ts";
import { walk } from "./walk.ts";

const SURFACES = new Set(["api", "jmap", "smtp", "imap", "http", "cli", "tui", "oauth-surface"]);
const SERVICES = new Set(["directory", "acl", "auth", "cache", "mail", "oauth", "outbound"]);

interface Violation {
  file: string;
  line: number;
  message: string;
}

/** Returns every import of the tree that breaks the layer rule. */
export async function checkLayers(root: string): Promise<Violation[]> {
  const violations: Violation[] = [];
  for await (const file of walk(root, [".ts"])) {
    const rel = file.slice(root.length + 1);
    if (!rel.startsWith("src/") && !rel.startsWith("tui/")) continue;
    if (rel.endsWith("_test.ts")) continue;
    const from = area(rel);
    const lines = (await Deno.readTextFile(file)).split("\n");
    lines.forEach((text, index) => {
      for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*)["'](\.[^"']+)["']/g)) {
        const target = resolveImport(rel, match[1]);
        const message = judge(rel, from, target);
        if (message) violations.push({ file: rel, line: index + 1, message });
      }
    });
  }
  return violations;
}

/**
 * The top folder of a path below src/ ("model", "store", …), "tui", or "" for a root file of src/.
 * The architecture splits oauth/: its core is a service, its endpoints and views ("oauth-surface") a surface.
 */
function area(path: string): string {
  if (path.startsWith("tui/")) return "tui";
  const parts = path.split("/");
  if (parts[1] === "oauth" && (parts[2] === "endpoints" || parts[2] === "views")) return "oauth-surface";
  return parts.length > 2 ? parts[1] : "";
}

function judge(file: string, from: string, target: string): string | undefined {
  const to = target.startsWith("src/") || target.startsWith("tui/") ? area(target) : "outside";
  if (to === from || to === "outside") return undefined;
  // The two halves of oauth/ are one folder: they import each other's files freely (surface → core).
  if (from === "oauth-surface" && to === "oauth") return undefined;
  if (from === "oauth" && to === "oauth-surface") {
    return file === "src/oauth/mod.ts" ? undefined : `oauth core imports its surface (${target})`;
  }
  if (from === "model") return `model/ imports ${target}: the model has no dependencies`;
  if (SURFACES.has(from) && to === "store") {
    return `surface ${from}/ imports the store (${target}); use a service`;
  }
  if (from === "http" && (SURFACES.has(to) || SERVICES.has(to) || to === "store")) {
    return `http/ imports ${target}: it receives what it needs as functions`;
  }
  if (from === "store" && to !== "model") {
    return `store/ imports ${target}: the store depends only on the model`;
  }
  if (to !== "model" && to !== "" && !target.endsWith("/mod.ts") && !(to === "tui" && from === "")) {
    return `${file} reaches into ${target}; import ${target.split("/").slice(0, 2).join("/")}/mod.ts`;
  }
  return undefined;
}

if (import.meta.main) {
  const root = Deno.cwd();
  const violations = await checkLayers(root);
  for (const v of violations) console.error(`${v.file}:${v.line}: ${v.message}`);
  const cycles = findCycles(await importGraph(root));
  for (const cycle of cycles) console.error(`import cycle: ${cycle.join(" → ")}`);
  if (violations.length || cycles.length) {
    console.error(`Layer rule: ${violations.length} violation(s), ${cycles.length} import cycle(s)`);
    Deno.exit(1);
  }
  console.log("Layer rule: ok (no import cycles)");
}
