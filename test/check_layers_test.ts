/** The layer check refuses import cycles and names the path of each. */
import assert from "node:assert/strict";
import { findCycles, importGraph } from "../scripts/check_cycles.ts";
import "./child_coverage.ts";

async function tree(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "postern-layers-" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${root}/${path.split("/").slice(0, -1).join("/")}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${path}`, text);
  }
  return root;
}

async function checkLayersIn(root: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = new URL("../scripts/check_layers.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", script], cwd: root }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("the layer check fails on a synthetic import cycle and prints its path", async () => {
  const root = await tree({
    "src/mail/a.ts": 'import { b } from "./b.ts";\nexport const a = () => b;\n',
    "src/mail/b.ts": 'import type { C } from "./c.ts";\nexport const b = 1 as unknown as C;\n',
    "src/mail/c.ts": 'export { a } from "./a.ts";\nexport type C = number;\n',
    // Lazy imports run after evaluation and do not count; a file outside the cycle is not named.
    "src/mail/d.ts": 'export const d = () => import("./e.ts");\nimport { a } from "./a.ts";\n',
    "src/mail/e.ts": 'export const e = () => import("./d.ts");\n',
  });
  try {
    const result = await checkLayersIn(root);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /import cycle: src\/mail\/a\.ts → src\/mail\/b\.ts → src\/mail\/c\.ts → src\/mail\/a\.ts/,
    );
    assert.match(result.stderr, /0 violation\(s\), 1 import cycle\(s\)/);
    assert.doesNotMatch(result.stderr, /d\.ts|e\.ts/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("findCycles reports a module importing itself and one path per tangle", () => {
  const edges = (...targets: string[]) => targets.map((target) => ({ target, line: 1 }));
  const graph = new Map([
    ["src/x.ts", edges("src/x.ts")],
    ["src/p.ts", edges("src/q.ts")],
    ["src/q.ts", edges("src/r.ts", "src/p.ts")],
    ["src/r.ts", edges("src/p.ts", "src/missing.ts")],
    ["src/s.ts", edges("src/p.ts")],
  ]);
  assert.deepEqual(findCycles(graph), [
    ["src/p.ts", "src/q.ts", "src/p.ts"],
    ["src/x.ts", "src/x.ts"],
  ]);
});

Deno.test("the repository's own modules have no import cycle", async () => {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  assert.deepEqual(findCycles(await importGraph(root)), []);
});
