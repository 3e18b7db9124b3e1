/**
 * The import-cycle rule: no module of src/ or tui/ imports itself through other modules. A cycle makes
 * evaluation order depend on which file is imported first (a class or constant read before its module
 * ran) and blurs which of two files is the lower layer. Lazy `import()` calls do not count: they run
 * after every module has been evaluated.
 */
import { walk } from "./walk.ts";

/** Module path (relative to the root) → the modules it imports statically, each with its line. */
export type ImportGraph = Map<string, { target: string; line: number }[]>;

/** The static relative imports (`import … from`, `export … from`) of the .ts files below src/ and tui/. */
export async function importGraph(root: string): Promise<ImportGraph> {
  const graph: ImportGraph = new Map();
  for await (const file of walk(root, [".ts"])) {
    const rel = file.slice(root.length + 1);
    if (!rel.startsWith("src/") && !rel.startsWith("tui/")) continue;
    if (rel.endsWith("_test.ts")) continue;
    const edges: { target: string; line: number }[] = [];
    (await Deno.readTextFile(file)).split("\n").forEach((text, index) => {
      for (const match of text.matchAll(/\bfrom\s+["'](\.[^"']+)["']/g)) {
        edges.push({ target: resolveImport(rel, match[1]), line: index + 1 });
      }
    });
    graph.set(rel, edges);
  }
  return graph;
}

/** The path an import specifier names, relative to the root. */
export function resolveImport(fromFile: string, spec: string): string {
  const parts = fromFile.split("/").slice(0, -1);
  for (const piece of spec.split("/")) {
    if (piece === "..") parts.pop();
    else if (piece !== ".") parts.push(piece);
  }
  return parts.join("/");
}

/**
 * One cycle per strongly connected group of modules, each as a path `a → b → … → a` (shortest from
 * the group's first module in sorted order), so a report names the imports to cut.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const cycles: string[][] = [];
  for (const group of stronglyConnected(graph)) {
    const start = [...group].sort()[0];
    const self = graph.get(start)?.some((e) => e.target === start);
    if (group.size === 1 && !self) continue;
    cycles.push(shortestLoop(graph, start, group));
  }
  return cycles.sort((a, b) => a[0].localeCompare(b[0]));
}

/** Tarjan's algorithm, iterative so a deep import chain cannot overflow the stack. */
function stronglyConnected(graph: ImportGraph): Set<string>[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: Set<string>[] = [];
  let counter = 0;
  const next = (node: string) => (graph.get(node) ?? []).map((e) => e.target).filter((t) => graph.has(t));
  for (const root of [...graph.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { node: string; edges: string[]; at: number }[] = [];
    const enter = (node: string) => {
      index.set(node, counter);
      low.set(node, counter++);
      stack.push(node);
      onStack.add(node);
      work.push({ node, edges: next(node), at: 0 });
    };
    enter(root);
    while (work.length) {
      const frame = work[work.length - 1];
      if (frame.at < frame.edges.length) {
        const target = frame.edges[frame.at++];
        if (!index.has(target)) enter(target);
        else if (onStack.has(target)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const group = new Set<string>();
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          group.add(member);
        } while (member !== frame.node);
        groups.push(group);
      }
    }
  }
  return groups;
}

/** The shortest path from `start` back to itself inside its group (breadth first). */
function shortestLoop(graph: ImportGraph, start: string, group: Set<string>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const node = queue.shift()!;
    for (const { target } of graph.get(node) ?? []) {
      if (!group.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at: string | undefined = node; at !== start && at; at = previous.get(at)) {
          path.splice(1, 0, at);
        }
        if (node !== start) return [...path, start];
        return [start, start];
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}
