/** The password of a user: typed twice with its strength shown, or generated and shown once. */
import { passwordWeakness, type WireObject } from "../src/directory/mod.ts";
import { FORM_KEYS, value } from "./form.ts";
import { generatePassword, passwordStrength } from "./format.ts";
import type { Ui } from "./ui.ts";

/** The password of a user: typed twice (its strength shown) or generated; undefined when cancelled. */
export async function choosePassword(
  ui: Ui,
  path: readonly string[],
  options: { allowNone?: boolean; body?: string[] } = {},
): Promise<{ secret: string | null; generated: boolean } | undefined> {
  const minLength = await ui.backend.client.get("authentication", "singleton")
    .then((a) => Number(a.minPasswordLength) || 8, () => 8);
  ui.draw(path, options.body ?? [], FORM_KEYS);
  const how = value(
    await ui.prompts.menu("Password", [
      { value: "type", name: "Type a password (twice)" },
      { value: "generate", name: "Generate one (shown once)" },
      ...(options.allowNone ? [{ value: "none", name: "No password for now (cannot log in)" }] : []),
    ], { help: false }),
  );
  if (how === undefined) return undefined;
  if (how === "none") return { secret: null, generated: false };
  if (how === "generate") return { secret: generatePassword(), generated: true };
  let problem: string | undefined;
  for (;;) {
    ui.draw(path, [...options.body ?? [], ...(problem ? ["", problem] : [])], FORM_KEYS);
    const first = value(
      await ui.prompts.secret(
        `Password (at least ${minLength} characters)`,
        (p) => passwordWeakness(p, { minLength }) ?? true,
      ),
    );
    if (first === undefined) return undefined;
    const again = value(await ui.prompts.secret(`Again, to confirm (strength: ${passwordStrength(first)})`));
    if (again === undefined) return undefined;
    if (again === first) return { secret: first, generated: false };
    problem = "The two passwords differ; type them again.";
  }
}

/** The credentials property for a password. */
export function credentials(secret: string, revokeAppPasswords = false): WireObject[] {
  return [{ "@type": "Password", secret, ...(revokeAppPasswords ? { revokeAppPasswords: true } : {}) }];
}
