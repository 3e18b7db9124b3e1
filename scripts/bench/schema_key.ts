/**
 * A short hash of the store's migrations, naming cached bench databases: a corpus built by a branch
 * whose migrations differ (another numbering, another table) is never opened by main as its own.
 */
import { repoPath } from "./processes.ts";

/** Twelve hex digits of SHA-256 over every migration's file name and text, in name order. */
export async function schemaKey(): Promise<string> {
  const dir = repoPath("src/store/migrations");
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  const parts = await Promise.all(
    names.map(async (name) => `${name}\n${await Deno.readTextFile(`${dir}/${name}`)}`),
  );
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\n")));
  return [...new Uint8Array(digest).slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
