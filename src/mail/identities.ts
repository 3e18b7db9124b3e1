/**
 * Identities (RFC 8621 §6): who an account may send as. The server keeps one per address the account
 * may send as (its primary address and aliases, and the addresses of the groups an administrator let
 * it send as: sendAsGroupIds; mayDelete false), in step with them whenever identities are read; users
 * add identities with other names and signatures for those addresses, never for another address
 * (forbiddenFrom). `addresses` is also the rule of EmailSubmission and SMTP submission (MAIL FROM,
 * From, Sender), read afresh for each, so a right taken away holds from the next message on.
 */
import type { AccountService } from "../directory/mod.ts";
import type { IdentityRecord } from "../store/mod.ts";
import {
  type Change,
  ForbiddenError,
  invalidProperty,
  type LoggedWrite,
  NotFoundError,
  RuleError,
  type Store,
} from "./deps.ts";

/** What a new identity is made of. */
export type IdentityInput = Partial<Omit<IdentityRecord, "id" | "accountId" | "mayDelete">>;

/** Identity reads and writes of an account by its owner. */
export class IdentityService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    /** Logs events and changes in the write's transaction. */
    private readonly write: LoggedWrite,
  ) {}

  /** The addresses the account may send as, lower case (its primary address first). */
  async addresses(accountId: number): Promise<string[]> {
    return [...(await this.senders(accountId)).keys()];
  }

  /**
   * Each address the account may send as with the name its server identity gets: its own (with its
   * description), then those of the groups it may send as (with the group's description or name).
   */
  private async senders(accountId: number): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const account = await this.accounts.get(accountId);
    if (!account) return out;
    const add = (addresses: string[], name: string) => {
      for (const address of addresses) {
        if (!out.has(address.toLowerCase())) out.set(address.toLowerCase(), name);
      }
    };
    add([account.primaryAddress, ...account.aliases], account.description ?? "");
    for (const groupId of account.sendAsGroupIds) {
      // A group deleted meanwhile takes its membership with it; a stale read just skips it.
      const group = await this.accounts.get(groupId);
      if (group) add([group.primaryAddress, ...group.aliases], group.description ?? group.name);
    }
    return out;
  }

  /** The account's identities, its addresses' own identities brought in step first. */
  async list(viewerId: number, accountId: number): Promise<IdentityRecord[]> {
    this.requireOwner(viewerId, accountId);
    await this.ensureDefaults(accountId);
    return await this.store.identities.list(accountId);
  }

  /** Adds an identity for one of the account's addresses. */
  async create(viewerId: number, accountId: number, input: IdentityInput): Promise<IdentityRecord> {
    this.requireOwner(viewerId, accountId);
    const email = (input.email ?? "").trim().toLowerCase();
    if (!email) throw invalidProperty("email", "an identity needs an email address");
    const addresses = await this.addresses(accountId);
    if (!addresses.includes(email)) {
      throw new RuleError(
        "forbiddenFrom",
        `"${email}" is not an address this account may send as; it may send as ${addresses.join(", ")}`,
      );
    }
    const account = await this.accounts.get(accountId);
    const record: Omit<IdentityRecord, "id"> = {
      accountId,
      name: input.name ?? account?.description ?? "",
      email,
      replyTo: input.replyTo ?? null,
      bcc: input.bcc ?? null,
      textSignature: input.textSignature ?? "",
      htmlSignature: input.htmlSignature ?? "",
      mayDelete: true,
    };
    return await this.write(async () => {
      const id = await this.store.identities.insert(record, Date.now());
      return { result: { ...record, id }, events: [], changes: [change(id, "created", accountId)] };
    });
  }

  /** Changes an identity's name, reply-to, bcc or signatures (its address stays). */
  async update(viewerId: number, accountId: number, id: number, patch: IdentityInput): Promise<void> {
    const current = (await this.list(viewerId, accountId)).find((i) => i.id === id);
    if (!current) throw new NotFoundError("Identity", String(id));
    if (patch.email !== undefined && patch.email.toLowerCase() !== current.email) {
      throw invalidProperty("email", "the address of an identity cannot change; create another identity");
    }
    const next = { ...current, ...patch, email: current.email };
    await this.write(async () => {
      await this.store.identities.update(next);
      return { result: undefined, events: [], changes: [change(id, "updated", accountId)] };
    });
  }

  /** Removes an identity a user made (the server's own for an address stay as long as the address). */
  async destroy(viewerId: number, accountId: number, id: number): Promise<void> {
    const current = (await this.list(viewerId, accountId)).find((i) => i.id === id);
    if (!current) throw new NotFoundError("Identity", String(id));
    if (!current.mayDelete) {
      throw new ForbiddenError(
        `The identity for ${current.email} is the address's own and stays as long as it does`,
      );
    }
    await this.write(async () => {
      await this.store.identities.delete(id);
      return { result: undefined, events: [], changes: [change(id, "destroyed", accountId)] };
    });
  }

  private requireOwner(viewerId: number, accountId: number): void {
    if (viewerId !== accountId) {
      throw new ForbiddenError("Identities are their account's own: a shared account's are not yours to use");
    }
  }

  /** One server identity per address it may send as: new ones get theirs, removed ones lose theirs. */
  private async ensureDefaults(accountId: number): Promise<void> {
    const senders = await this.senders(accountId);
    if (senders.size === 0) return;
    const addresses = [...senders.keys()];
    const work = async () => {
      const own = (await this.store.identities.list(accountId)).filter((i) => !i.mayDelete);
      return {
        missing: addresses.filter((a) => !own.some((i) => i.email === a)),
        stale: own.filter((i) => !addresses.includes(i.email)),
      };
    };
    const first = await work();
    if (first.missing.length === 0 && first.stale.length === 0) return;
    await this.write(async () => {
      // Again inside the transaction: another request may have done it meanwhile.
      const { missing, stale } = await work();
      const changes: Change[] = [];
      for (const email of missing) {
        const id = await this.store.identities.insert({
          accountId,
          name: senders.get(email) ?? "",
          email,
          replyTo: null,
          bcc: null,
          textSignature: "",
          htmlSignature: "",
          mayDelete: false,
        }, Date.now());
        changes.push(change(id, "created", accountId));
      }
      for (const identity of stale) {
        await this.store.identities.delete(identity.id);
        changes.push(change(identity.id, "destroyed", accountId));
      }
      return { result: undefined, events: [], changes };
    });
  }
}

function change(id: number, kind: Change["kind"], accountId: number): Change {
  return { type: "Identity", objectId: id, kind, accountId };
}
