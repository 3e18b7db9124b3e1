/**
 * /metrics of several serving processes as one exposition (`postern serve --processes N`): a scrape
 * reaches one process, which adds what its siblings report. Each process's own series carry a
 * `process` label, so a restarted process's counters start a new run of their own series (which
 * Prometheus reads as a counter reset) and no summed counter ever goes backwards. Series read from the
 * database (mail counts, failed logins, the queue) are the whole server's already: they appear once,
 * unlabelled, from the process that answers.
 */

/** One metric family: its HELP and TYPE lines, then its samples. */
interface Family {
  header: string[];
  samples: string[];
}

const SUFFIXES = ["_bucket", "_sum", "_count"];

/** Adds `label="value"` to every sample of `text` except those of the `shared` families. */
export function labelSamples(
  text: string,
  label: string,
  value: string,
  shared: ReadonlySet<string>,
): string {
  const families = parseFamilies(text);
  const pair = `${label}="${value.replace(/["\\\n]/g, "")}"`;
  for (const [name, family] of families) {
    if (shared.has(name)) continue;
    family.samples = family.samples.map((line) => {
      const brace = line.indexOf("{");
      const space = line.indexOf(" ");
      if (brace >= 0 && brace < space) {
        const close = line.indexOf("}", brace);
        return `${line.slice(0, close)}${close === brace + 1 ? "" : ","}${pair}${line.slice(close)}`;
      }
      return `${line.slice(0, space)}{${pair}}${line.slice(space)}`;
    });
  }
  return render(families);
}

/**
 * `own` followed by the samples of `others`, family by family (each family's samples together, its
 * HELP and TYPE once); the `shared` families come from `own` only.
 */
export function mergeExpositions(own: string, others: string[], shared: ReadonlySet<string>): string {
  const merged = parseFamilies(own);
  for (const text of others) {
    for (const [name, family] of parseFamilies(text)) {
      if (shared.has(name)) continue;
      const into = merged.get(name);
      if (into) into.samples.push(...family.samples);
      else merged.set(name, family);
    }
  }
  return render(merged);
}

/** Families in order of first appearance; a sample before any TYPE line is a family of its own name. */
function parseFamilies(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let found = families.get(name);
    if (!found) families.set(name, found = { header: [], samples: [] });
    return found;
  };
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const comment = /^# (HELP|TYPE) (\S+)/.exec(line);
    if (comment) {
      family(comment[2]).header.push(line);
      continue;
    }
    if (line.startsWith("#")) continue;
    const name = /^[^{\s]+/.exec(line)![0];
    const base = SUFFIXES.find((s) => name.endsWith(s) && families.has(name.slice(0, -s.length)));
    family(base ? name.slice(0, -base.length) : name).samples.push(line);
  }
  return families;
}

function render(families: Map<string, Family>): string {
  const lines: string[] = [];
  for (const { header, samples } of families.values()) lines.push(...header, ...samples);
  return lines.join("\n") + "\n";
}
