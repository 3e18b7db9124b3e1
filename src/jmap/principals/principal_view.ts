/**
 * Which principals a caller sees (RFC 9670): an admin every account; a user the accounts of their
 * own domain (every domain when the Sharing singleton says "all") and the owners of accounts shared with them (the session names those owners through
 * `principalId`, so they must be gettable). Each with the accounts of its data the caller can use.
 */
import type { AccountService } from "../../directory/mod.ts";
import type { MailboxService } from "../../mail/mod.ts";
import { WRITE_RIGHTS } from "../../model/mail.ts";
import type { Account } from "../../model/types.ts";
import type { MethodContext } from "../engine.ts";
import { buildSession, type SessionOptions, type SharedAccount } from "../session.ts";
import type { CoreCapability, Id, JmapAccount } from "../types.ts";

/** What the principal view is built from. */
export interface PrincipalViewDeps {
  accounts: AccountService;
  mailboxes: MailboxService;
  core: CoreCapability;
  mail: SessionOptions["mail"];
  submission: SessionOptions["submission"];
  /** The Sharing singleton's principalScope: "domain" (default) or "all". */
  principalScope: () => Promise<"domain" | "all">;
}

/** The principals a caller sees, and the session's accounts (their `accounts` come from it). */
export interface PrincipalView {
  visible: Account[];
  sessionAccounts: Record<Id, JmapAccount>;
}

/** The caller's view of the directory as principals. */
export async function principalView(deps: PrincipalViewDeps, ctx: MethodContext): Promise<PrincipalView> {
  const { accounts } = deps;
  const load = async (id: number) => accounts.peek(id) ?? await accounts.get(id);
  const me = await accounts.require(ctx.principal.accountId);
  const shared: SharedAccount[] = [];
  for (const [ownerId, rights] of await deps.mailboxes.sharedAccounts(me.id)) {
    // Resolved a moment ago; one deleted in between is skipped like any missing account.
    const owner = await load(ownerId);
    if (owner) shared.push({ account: owner, readOnly: (rights & WRITE_RIGHTS) === 0 });
  }
  const ids = ctx.principal.roles.includes("admin") || await deps.principalScope() === "all"
    ? await accounts.query({})
    : await accounts.query({ domainId: me.domainId });
  const visible = new Map<number, Account>();
  for (const id of ids) {
    const account = await load(id);
    if (account) visible.set(id, account);
  }
  for (const { account } of shared) visible.set(account.id, account);
  const session = buildSession(ctx.principal, me, {
    baseUrl: ctx.baseUrl,
    core: deps.core,
    mail: deps.mail,
    submission: deps.submission,
    shared,
  });
  return { visible: [...visible.values()], sessionAccounts: session.accounts };
}
