/** What every form shares: its keys, asking again after a refusal, declaration rules as validators. */
import { Key } from "./terminal.ts";
import { errorLines, type Ui } from "./ui.ts";

/** The keys of a form, shown under the title. */
export const FORM_KEYS: [string, string][] = [["enter", "accept"], ["esc", "cancel"], ["ctrl+c", "quit"]];

/** Asks the answers of a form; undefined when the user cancelled. */
type Ask<T> = (error?: unknown) => Promise<T | undefined>;

/**
 * Asks, saves, and on a refusal shows the object layer's message and asks again with it in view;
 * returns the saved result, or undefined when the user cancelled.
 */
export async function askAndSave<T, R>(
  ui: Ui,
  path: readonly string[],
  ask: Ask<T>,
  save: (answers: T) => Promise<R>,
): Promise<R | undefined> {
  let error: unknown;
  for (;;) {
    const answers = await ask(error);
    if (answers === undefined) return undefined;
    try {
      return await save(answers);
    } catch (caught) {
      error = caught;
      ui.draw(path, errorLines(caught), FORM_KEYS);
    }
  }
}

/**
 * The properties a refusal names (its problems' first path segment: `redirectUris/0` → `redirectUris`);
 * a form asks only these again, keeping its other answers. Empty for no error, or one naming none.
 */
export function refusedFields(error: unknown): Set<string> {
  const problems = (error as { problems?: { property?: string }[] } | undefined)?.problems ?? [];
  return new Set(problems.map((p) => p.property?.split("/")[0] ?? "").filter(Boolean));
}

/** A rule of the declaration as a prompt validator: true, or the rule's own message. */
export function rule(
  schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } },
) {
  return (value: string): true | string => {
    const parsed = schema.safeParse(value);
    return parsed.success || (parsed.error?.issues.map((i) => i.message).join("; ") ?? "invalid");
  };
}

/** Returns undefined for a key (cancel), else the value. */
export function value<T>(answer: T | Key): T | undefined {
  return answer instanceof Key ? undefined : answer;
}
