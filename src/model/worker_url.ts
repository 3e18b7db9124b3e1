/**
 * Where a module worker is loaded from. Source runs and `deno compile` (which embeds each worker module
 * through `--include`, see deno.json) load the module beside its starter; the single-file bundle has no
 * such file, so scripts/bundle.ts stores each worker's source on globalThis under `Symbol.for(key)` and
 * the worker starts from a data: URL of it.
 */
const dataUrls = new Map<string, string>();

/** The URL to start the worker embedded under `key`, or `module` when nothing is embedded. */
export function workerUrl(key: string, module: URL): string | URL {
  const source = (globalThis as Record<symbol, unknown>)[Symbol.for(key)];
  if (typeof source !== "string") return module;
  let url = dataUrls.get(key);
  if (url === undefined) {
    url = `data:text/javascript,${encodeURIComponent(source)}`;
    dataUrls.set(key, url);
  }
  return url;
}
