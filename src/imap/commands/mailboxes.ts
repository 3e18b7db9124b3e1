/**
 * The mailbox commands of the authenticated state, on the JMAP mailboxes (mailbox_deps.ts):
 * LIST with LIST-EXTENDED, LIST-STATUS and SPECIAL-USE (RFC 9051 §6.3.9, RFC 5258, 5819, 6154),
 * LSUB, STATUS, CREATE (with USE), DELETE, RENAME, SUBSCRIBE and UNSUBSCRIBE. Names are resolved
 * among the mailboxes the user sees now (commands/mailbox_names.ts): another account's mailbox
 * without a grant is "nonexistent", never "forbidden" (RFC 4314 §6).
 */
import type { CommandBody, ImapCommand, ResponseValue, StatusItem } from "../command.ts";
import { ImapNo } from "../errors.ts";
import { atom } from "../response.ts";
import { encodeId } from "../../model/ids.ts";
import { APPEND_LIMIT } from "../capabilities.ts";
import type { ImapSession, Outcome } from "../session.ts";
import { encodeModifiedUtf7 } from "../utf7.ts";
import {
  DELIMITER,
  type NamedMailbox,
  namedMailboxes,
  normalizeName,
  OTHER_USERS,
  sameName,
} from "./mailbox_names.ts";
import { listed, matcher } from "./list_tree.ts";

type Body<N extends CommandBody["name"]> = CommandBody & { name: N };

/** JMAP roles ↔ RFC 6154 special-use attributes. */
export const SPECIAL_USE: Record<string, string> = {
  all: "\\All",
  archive: "\\Archive",
  drafts: "\\Drafts",
  flagged: "\\Flagged",
  important: "\\Important",
  junk: "\\Junk",
  sent: "\\Sent",
  trash: "\\Trash",
};

const ok = (command: ImapCommand, text: string): Outcome => ({ tag: command.tag, status: "OK", text });

/** A mailbox name as the client reads it: UTF-8 once enabled, modified UTF-7 otherwise. */
export function wireName(session: ImapSession, name: string): string {
  return session.writer.utf8 ? name : encodeModifiedUtf7(name);
}

/** The visible mailbox named `name`, or NO [NONEXISTENT]. */
async function resolve(session: ImapSession, name: string): Promise<NamedMailbox> {
  const all = await namedMailboxes(session.deps.mailboxes, session.principal!.accountId);
  const found = all.find((m) => sameName(m.path, name));
  if (!found) throw new ImapNo("NONEXISTENT", `No mailbox "${name}"`);
  return found;
}

/** LIST (basic and extended). */
export async function list(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const body = command.body as Body<"LIST">;
  const viewer = session.principal!.accountId;
  const all = await namedMailboxes(session.deps.mailboxes, viewer);
  const selectSubscribed = body.selection.includes("SUBSCRIBED");
  const selectSpecial = body.selection.includes("SPECIAL-USE");
  const showSubscribed = body.returns.subscribed || selectSubscribed;
  // RFC 5258 §3 RECURSIVEMATCH with SUBSCRIBED: a mailbox with a subscribed descendant is listed
  // (even unsubscribed) with ("CHILDINFO" ("SUBSCRIBED")).
  const recursive = selectSubscribed && body.selection.includes("RECURSIVEMATCH");
  const subscribedBelow = (path: string) =>
    recursive && all.some((m) => m.mailbox.subscribed && m.path.startsWith(path + DELIMITER));
  for (const pattern of body.patterns) {
    if (pattern === "" && body.basic) {
      // RFC 9051 §6.3.9: the delimiter and the root.
      session.untagged([atom("LIST"), [atom("\\Noselect")], DELIMITER, ""]);
      continue;
    }
    const match = matcher(body.reference, pattern);
    for (const entry of listed(all, { extended: !body.basic })) {
      if (!match(entry.path)) continue;
      const mailbox = entry.mailbox;
      const childInfo = subscribedBelow(entry.path);
      if (selectSubscribed && !mailbox?.mailbox.subscribed && !childInfo) continue;
      const special = mailbox?.mailbox.role ? SPECIAL_USE[mailbox.mailbox.role] : undefined;
      if (selectSpecial && !special) continue;
      const flags: string[] = [...entry.flags];
      flags.push(entry.children ? "\\HasChildren" : "\\HasNoChildren");
      if (showSubscribed && mailbox?.mailbox.subscribed) flags.push("\\Subscribed");
      if (special) flags.push(special);
      const name = wireName(session, entry.path);
      const extended: ResponseValue[] = childInfo ? [["CHILDINFO", ["SUBSCRIBED"]]] : [];
      session.untagged([atom("LIST"), flags.map(atom), DELIMITER, name, ...extended]);
      if (body.returns.status && mailbox) {
        await status(session, mailbox, body.returns.status).catch(() => undefined);
      }
    }
  }
  return ok(command, "LIST completed");
}

/** LSUB (IMAP4rev1): the subscribed mailboxes that match. */
export async function lsub(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { reference, pattern } = command.body as Body<"LSUB">;
  const all = await namedMailboxes(session.deps.mailboxes, session.principal!.accountId);
  const match = matcher(reference, pattern);
  for (const m of all) {
    if (!m.mailbox.subscribed || !match(m.path)) continue;
    session.untagged([atom("LSUB"), [], DELIMITER, wireName(session, m.path)]);
  }
  return ok(command, "LSUB completed");
}

/** STATUS mailbox (items). */
export async function statusCommand(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { mailbox, items } = command.body as Body<"STATUS">;
  await status(session, await resolve(session, mailbox), items);
  return ok(command, "STATUS completed");
}

/** Writes `* STATUS name (…)` with the items that are known (see mailbox_deps.ts). */
async function status(session: ImapSession, named: NamedMailbox, items: StatusItem[]): Promise<void> {
  const { mailbox } = named;
  // RFC 7162 §3.1: STATUS (HIGHESTMODSEQ) is a CONDSTORE enabling command (Dovecot does the same).
  if (items.includes("HIGHESTMODSEQ")) session.enabled.add("CONDSTORE");
  const viewer = session.principal!.accountId;
  const needsStore = items.some((i) => !["MESSAGES", "UNSEEN", "RECENT", "APPENDLIMIT"].includes(i));
  const store = needsStore && session.deps.mailboxes.imapStatus
    ? await session.deps.mailboxes.imapStatus(viewer, mailbox.accountId, mailbox.id)
    : undefined;
  const values: ResponseValue[] = [];
  for (const item of items) {
    const value = item === "MESSAGES"
      ? mailbox.messages
      : item === "UNSEEN"
      ? mailbox.unseen
      : item === "RECENT"
      ? 0
      : item === "UIDNEXT"
      ? store?.uidNext
      : item === "UIDVALIDITY"
      ? store?.uidValidity
      : item === "HIGHESTMODSEQ"
      ? store?.highestModseq
      : item === "SIZE"
      ? store?.size
      : item === "DELETED"
      ? store?.deleted
      : item === "MAILBOXID"
      ? (store ? [atom(store.mailboxId)] : undefined)
      : item === "APPENDLIMIT"
      ? APPEND_LIMIT
      : undefined;
    if (value !== undefined) values.push(atom(item), value as ResponseValue);
  }
  session.untagged([atom("STATUS"), wireName(session, named.path), values]);
}

/** Where a new name goes: the account, the parent (creating missing ones when asked), the leaf name. */
async function placeOf(
  session: ImapSession,
  name: string,
  createParents: boolean,
): Promise<{ accountId: number; parentId: number | null; leaf: string }> {
  const path = normalizeName(name.endsWith(DELIMITER) ? name.slice(0, -1) : name);
  const parts = path.split(DELIMITER);
  if (parts.some((p) => p === "")) throw new ImapNo("CANNOT", `Invalid mailbox name "${name}"`);
  const viewer = session.principal!.accountId;
  const all = await namedMailboxes(session.deps.mailboxes, viewer);
  let accountId = viewer;
  let start = 0;
  if (parts[0] === OTHER_USERS) {
    const owner = all.find((m) => m.owner !== undefined && m.path.startsWith(`${OTHER_USERS}/${parts[1]}/`));
    if (!owner || parts.length < 3) throw new ImapNo("NOPERM", `Cannot create "${name}" there`);
    accountId = owner.mailbox.accountId;
    start = 2;
  }
  let parentId: number | null = null;
  for (let i = start; i < parts.length - 1; i++) {
    const prefix = parts.slice(0, i + 1).join(DELIMITER);
    const parent = all.find((m) => sameName(m.path, prefix));
    if (parent) {
      parentId = parent.mailbox.id;
      continue;
    }
    if (!createParents) throw new ImapNo("NONEXISTENT", `No mailbox "${prefix}"`);
    parentId = await session.deps.mailboxes.create(viewer, accountId, { name: parts[i], parentId });
  }
  return { accountId, parentId, leaf: parts[parts.length - 1] };
}

/** CREATE name [(USE (\Sent …))]; the OK carries the new mailbox's id (RFC 8474 §4.1 MAILBOXID). */
export async function create(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { mailbox, specialUse } = command.body as Body<"CREATE">;
  const existing = await resolve(session, mailbox).catch(() => undefined);
  if (existing || sameName(mailbox, "INBOX")) {
    throw new ImapNo("ALREADYEXISTS", `"${mailbox}" already exists`);
  }
  const roles = specialUse.map((use) => {
    const role = Object.keys(SPECIAL_USE).find((r) => SPECIAL_USE[r].toLowerCase() === use.toLowerCase());
    if (!role) throw new ImapNo("USEATTR", `Unknown special use ${use}`);
    return role;
  });
  if (roles.length > 1) throw new ImapNo("USEATTR", "A mailbox has at most one special use here");
  const place = await placeOf(session, mailbox, true);
  // RFC 6154 §5.1: a failure "related to the special-use attribute" MUST carry USEATTR; a role
  // belongs to one mailbox of an account (JMAP, RFC 8621 §2).
  if (roles.length > 0) {
    const all = await namedMailboxes(session.deps.mailboxes, session.principal!.accountId);
    const holder = all.find((m) => m.mailbox.accountId === place.accountId && m.mailbox.role === roles[0]);
    if (holder) throw new ImapNo("USEATTR", `${specialUse[0]} already belongs to "${holder.path}"`);
  }
  const id = await session.deps.mailboxes.create(session.principal!.accountId, place.accountId, {
    name: place.leaf,
    parentId: place.parentId,
    role: roles[0] ?? null,
  });
  return {
    tag: command.tag,
    status: "OK",
    code: { name: "MAILBOXID", values: [[atom(encodeId(id))]] },
    text: "CREATE completed",
  };
}

/** DELETE name (its messages go with it, RFC 9051 §6.3.4). */
export async function deleteMailbox(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { mailbox } = command.body as Body<"DELETE">;
  if (sameName(mailbox, "INBOX")) throw new ImapNo("CANNOT", "INBOX cannot be deleted");
  const found = await resolve(session, mailbox);
  await session.deps.mailboxes.destroy(
    session.principal!.accountId,
    found.mailbox.accountId,
    found.mailbox.id,
  );
  return ok(command, "DELETE completed");
}

/** RENAME from to: within one account; the children follow. */
export async function rename(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { from, to } = command.body as Body<"RENAME">;
  const source = await resolve(session, from);
  if (await resolve(session, to).catch(() => undefined) || sameName(to, "INBOX")) {
    throw new ImapNo("ALREADYEXISTS", `"${to}" already exists`);
  }
  const place = await placeOf(session, to, true);
  if (sameName(from, "INBOX")) return await renameInbox(session, command, source, place);
  if (place.accountId !== source.mailbox.accountId) {
    throw new ImapNo("CANNOT", "A mailbox cannot be moved to another user's mailboxes");
  }
  await session.deps.mailboxes.update(session.principal!.accountId, place.accountId, source.mailbox.id, {
    name: place.leaf,
    parentId: place.parentId,
  });
  return ok(command, "RENAME completed");
}

/**
 * RENAME INBOX (RFC 9051 §6.3.6): every message of INBOX moves to a new mailbox of that name, INBOX
 * stays (empty, still the inbox role) and its children are untouched. One MOVE of the IMAP mail
 * service, so each email changes mailbox in one write and is never in both or neither; when the move
 * fails the new mailbox is removed again.
 */
async function renameInbox(
  session: ImapSession,
  command: ImapCommand,
  inbox: NamedMailbox,
  place: { accountId: number; parentId: number | null; leaf: string },
): Promise<Outcome> {
  const viewer = session.principal!.accountId;
  if (place.accountId !== viewer) {
    throw new ImapNo("CANNOT", "INBOX can only be renamed among your own mailboxes");
  }
  const created = await session.deps.mailboxes.create(viewer, viewer, {
    name: place.leaf,
    parentId: place.parentId,
  });
  try {
    await session.deps.messages.move(
      viewer,
      { accountId: viewer, mailboxId: inbox.mailbox.id },
      [[1, 0xffff_ffff]],
      { accountId: viewer, mailboxId: created },
    );
  } catch (error) {
    await session.deps.mailboxes.destroy(viewer, viewer, created).catch(() => undefined);
    throw error;
  }
  return ok(command, "RENAME completed");
}

/** SUBSCRIBE and UNSUBSCRIBE. */
export async function subscribe(session: ImapSession, command: ImapCommand): Promise<Outcome> {
  const { name, mailbox } = command.body as Body<"SUBSCRIBE" | "UNSUBSCRIBE">;
  const found = await resolve(session, mailbox);
  await session.deps.mailboxes.update(
    session.principal!.accountId,
    found.mailbox.accountId,
    found.mailbox.id,
    {
      isSubscribed: name === "SUBSCRIBE",
    },
  );
  return ok(command, `${name} completed`);
}
