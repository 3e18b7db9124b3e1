/** Yields the files below `root` with one of the given extensions, skipping data, dist and dot folders. */
export async function* walk(root: string, extensions: string[]): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(root)) {
    if (entry.name.startsWith(".") || ["data", "dist", "node_modules"].includes(entry.name)) continue;
    const path = `${root}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path, extensions);
    else if (entry.isFile && extensions.some((e) => entry.name.endsWith(e))) yield path;
  }
}
