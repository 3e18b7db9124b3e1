/**
 * The addresses an account forwards its mail to, checked against the account: each once, and none of
 * the account's own addresses (that forward would come straight back). The schema has checked their
 * form and count (model/objects/account.ts).
 */
import { InvalidInputError } from "./deps.ts";

/** The forwarding addresses, lower-cased and without repeats; throws when one is the account's own. */
export function forwardTargets(
  requested: readonly string[],
  own: readonly string[],
  action: string,
): string[] {
  const mine = new Set(own.map((a) => a.toLowerCase()));
  const out: string[] = [];
  for (const address of requested) {
    const target = address.toLowerCase();
    if (mine.has(target)) {
      throw new InvalidInputError(`${action}: "${address}" is one of the account's own addresses`, [
        { property: "forwardTo", message: `"${address}" is one of the account's own addresses` },
      ]);
    }
    if (!out.includes(target)) out.push(target);
  }
  return out;
}
