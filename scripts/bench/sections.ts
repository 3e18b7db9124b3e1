/** The benchmark's sections, for `--only`: each runs one figure's measurements. */

/** Every section, in the order they run. */
export const SECTIONS = [
  "account",
  "sync",
  "logins",
  "echo",
  "query",
  "refresh",
  "refresh_fresh",
  "client_credentials",
  "bearer",
  "verify",
  "session",
  "mailbox",
  "email",
  "text",
  "text_cyrus",
  "push",
  "inbound",
  "queue",
  "compression",
  "imap",
  "cores",
] as const;

/** One section of the benchmark. */
export type Section = typeof SECTIONS[number];

/** Names standing for several sections. */
const GROUPS: Readonly<Record<string, readonly Section[]>> = {
  all: SECTIONS,
  oauth: ["refresh", "refresh_fresh", "client_credentials", "bearer", "verify"],
  mail: ["session", "mailbox", "email", "text"],
};

/** The sections a comma-separated `--only` list names (every section when absent). */
export function parseSections(only: string | undefined): Set<Section> {
  if (only === undefined) return new Set(SECTIONS);
  const chosen = new Set<Section>();
  for (const name of only.split(",").map((n) => n.trim()).filter(Boolean)) {
    const group = GROUPS[name] ??
      ((SECTIONS as readonly string[]).includes(name) ? [name as Section] : undefined);
    if (!group) {
      throw new Error(
        `--only: unknown section "${name}"; use ${[...SECTIONS, ...Object.keys(GROUPS)].join(", ")}`,
      );
    }
    for (const section of group) chosen.add(section);
  }
  if (chosen.size === 0) throw new Error("--only names no section");
  return chosen;
}
