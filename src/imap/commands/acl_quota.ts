/**
 * ACL (RFC 4314) on the JMAP sharing rights (acl_rights.ts has the mapping table) and QUOTA
 * (RFC 9208) from the JMAP quotas. Identifiers are login names of accounts and groups; "anyone" and
 * negative rights are not offered. GETACL, SETACL and DELETEACL need `a` (mayShare); MYRIGHTS and
 * LISTRIGHTS any right on the mailbox; a mailbox without any is nonexistent (RFC 4314 §6).
 */
import type { CommandBody, ImapCommand, ResponseValue } from "../command.ts";
import { ALL_IMAP_RIGHTS, imapRights, jmapRights, RIGHT_GROUPS } from "../acl_rights.ts";
import { ImapBad, ImapNo } from "../errors.ts";
import { atom } from "../response.ts";
import type { ImapSession, Outcome } from "../session.ts";
import { type NamedMailbox, namedMailboxes, OTHER_USERS, sameName } from "./mailbox_names.ts";
import { wireName } from "./mailboxes.ts";
import { rightBit } from "../../model/mail.ts";

type Body<N extends CommandBody["name"]> = CommandBody & { name: N };

const ok = (command: ImapCommand): Outcome => ({
  tag: command.tag,
  status: "OK",
  text: `${command.body.name} completed`,
});

async function resolve(session: ImapSession, name: string): Promise<NamedMailbox> {
  const all = await namedMailboxes(session.deps.mailboxes, session.principal!.accountId);
  const found = all.find((m) => sameName(m.path, name));
  if (!found) throw new ImapNo("NONEXISTENT", `No mailbox "${name}"`);
  return found;
}

function requireAdminister(named: NamedMailbox): Map<number, number> {
  if (!(named.mailbox.rights & rightBit("mayShare")) || !named.mailbox.shareWith) {
    throw new ImapNo(
      "NOPERM",
      `You may not administer "${named.path}" (the a right, mayShare, is not granted)`,
    );
  }
  return named.mailbox.shareWith;
}

/** MYRIGHTS mailbox. */
export async function myRights(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { mailbox } = command.body as Body<"MYRIGHTS">;
  const named = await resolve(session, mailbox);
  session.untagged([atom("MYRIGHTS"), wireName(session, named.path), imapRights(named.mailbox.rights)]);
  return ok(command);
}

/** GETACL mailbox: the owner with every right, then each grantee. */
export async function getAcl(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { mailbox } = command.body as Body<"GETACL">;
  const named = await resolve(session, mailbox);
  const grants = requireAdminister(named);
  const { mailboxes } = session.deps;
  const owner = await mailboxes.loginOf(named.mailbox.accountId);
  const values: ResponseValue[] = [atom("ACL"), wireName(session, named.path)];
  if (owner) values.push(owner, ALL_IMAP_RIGHTS);
  for (const [granteeId, bits] of grants) {
    const login = await mailboxes.loginOf(granteeId);
    if (login && bits) values.push(login, imapRights(bits));
  }
  session.untagged(values);
  return ok(command);
}

/** LISTRIGHTS mailbox identifier: nothing is always granted; the groups may be. */
export async function listRights(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { mailbox, identifier } = command.body as Body<"LISTRIGHTS">;
  const named = await resolve(session, mailbox);
  requireAdminister(named);
  const owner = await session.deps.mailboxes.loginOf(named.mailbox.accountId);
  const isOwner = owner !== undefined && owner.toLowerCase() === identifier.toLowerCase();
  session.untagged([
    atom("LISTRIGHTS"),
    wireName(session, named.path),
    identifier,
    ...(isOwner ? [ALL_IMAP_RIGHTS] : ["", ...RIGHT_GROUPS]),
  ]);
  return ok(command);
}

/** SETACL mailbox identifier [+-]rights, and DELETEACL mailbox identifier. */
export async function setAcl(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const body = command.body as Body<"SETACL" | "DELETEACL">;
  const named = await resolve(session, body.mailbox);
  const grants = new Map(requireAdminister(named));
  if (body.identifier.toLowerCase() === "anyone" || body.identifier.startsWith("-")) {
    throw new ImapNo("CANNOT", `Rights for "${body.identifier}" are not supported; name an account or group`);
  }
  const granteeId = await session.deps.mailboxes.accountIdOf(body.identifier);
  if (granteeId === undefined) throw new ImapNo("NONEXISTENT", `No account or group "${body.identifier}"`);
  if (granteeId === named.mailbox.accountId) {
    throw new ImapNo("CANNOT", "The owner's rights cannot be changed");
  }
  let bits = 0;
  if (body.name === "SETACL") {
    const text = body.rights;
    const mode = text.startsWith("+") ? "add" : text.startsWith("-") ? "remove" : "replace";
    const given = jmapRights(mode === "replace" ? text : text.slice(1));
    if (given === undefined) throw new ImapBad(`Unknown right in "${text}"; rights are ${ALL_IMAP_RIGHTS}`);
    const current = grants.get(granteeId) ?? 0;
    bits = mode === "add" ? current | given : mode === "remove" ? current & ~given : given;
  }
  if (bits) grants.set(granteeId, bits);
  else grants.delete(granteeId);
  await session.deps.mailboxes.update(
    session.principal!.accountId,
    named.mailbox.accountId,
    named.mailbox.id,
    {
      shareWith: grants,
    },
  );
  return ok(command);
}

/** The quota root of a mailbox: "" for the user's own, "Other Users/<login>" for a sharer's. */
function rootOf(named: NamedMailbox): string {
  return named.owner === undefined ? "" : `${OTHER_USERS}/${named.owner}`;
}

async function writeQuota(session: ImapSession, root: string, accountId: number): Promise<void> {
  const quota = await session.deps.mailboxes.quota(accountId);
  const resources: ResponseValue[] = [];
  // RFC 9208 §5.1: STORAGE in units of 1024 octets.
  if (quota.storage) {
    resources.push(
      atom("STORAGE"),
      Math.ceil(quota.storage.used / 1024),
      Math.floor(quota.storage.limit / 1024),
    );
  }
  if (quota.mailboxes) resources.push(atom("MAILBOX"), quota.mailboxes.used, quota.mailboxes.limit);
  session.untagged([atom("QUOTA"), root, resources]);
}

/** GETQUOTAROOT mailbox. */
export async function getQuotaRoot(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { mailbox } = command.body as Body<"GETQUOTAROOT">;
  const named = await resolve(session, mailbox);
  const root = rootOf(named);
  session.untagged([atom("QUOTAROOT"), wireName(session, named.path), root]);
  await writeQuota(session, root, named.mailbox.accountId);
  return ok(command);
}

/** GETQUOTA root. */
export async function getQuota(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { root } = command.body as Body<"GETQUOTA">;
  const viewer = session.principal!.accountId;
  if (root === "") {
    await writeQuota(session, "", viewer);
    return ok(command);
  }
  const all = await namedMailboxes(session.deps.mailboxes, viewer);
  const shared = all.find((m) => m.owner !== undefined && rootOf(m) === root);
  if (!shared) throw new ImapNo("NONEXISTENT", `No quota root "${root}"`);
  await writeQuota(session, root, shared.mailbox.accountId);
  return ok(command);
}

/** SETQUOTA: limits are set by an administrator (x:Account quotas), not over IMAP. */
export function setQuota(_session: ImapSession, _command: ImapCommand): Promise<Outcome> {
  return Promise.reject(new ImapNo("NOPERM", "Quotas are set by an administrator"));
}
