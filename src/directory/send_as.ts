/**
 * The right of a group's member to send as the group: which of an account's memberships carry it
 * after a change. The right is a mark on a membership, so it never outlives the membership, and
 * only a User sends (a group does not log in).
 */
import { type AccountType, encodeId, InvalidInputError } from "./deps.ts";

/** What a create or update says about memberships and the right. */
export interface SendAsChange {
  type: AccountType;
  /** The account's groups after the change. */
  groups: number[];
  /** The groups asked for, if the change names them. */
  requested: number[] | undefined;
  /** The groups it could send as before the change (none for a new account). */
  before: number[];
}

/**
 * The groups the account may send as after the change: those asked for, each one of its groups; or,
 * when the change does not say, those of before it still belongs to.
 */
export function sendAsGroups(change: SendAsChange, action: string): number[] {
  if (change.requested === undefined) return change.before.filter((g) => change.groups.includes(g));
  const unique = [...new Set(change.requested)];
  if (unique.length && change.type === "Group") {
    throw new InvalidInputError(`${action}: a group does not send mail, so it sends as no group`, [
      { property: "sendAsGroupIds", message: "only a User sends as a group" },
    ]);
  }
  const outside = unique.find((g) => !change.groups.includes(g));
  if (outside !== undefined) {
    throw new InvalidInputError(
      `${action}: it may send only as a group it belongs to, not ${encodeId(outside)}`,
      [
        { property: "sendAsGroupIds", message: `account ${encodeId(outside)} is not one of memberGroupIds` },
      ],
    );
  }
  return unique;
}
