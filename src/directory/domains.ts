import { type AccountService, changed } from "./accounts.ts";
import {
  ConflictError,
  type DmarcEnforcement,
  type Domain,
  encodeId,
  type MtaStsMode,
  NotFoundError,
  type Store,
} from "./deps.ts";

/** Domains: create, rename, describe, delete (refused while in use). */
export class DomainService {
  #created: ((domainId: number) => Promise<unknown>)[] = [];

  constructor(private readonly store: Store, private readonly accounts: AccountService) {}

  /**
   * Runs `hook` after each domain is created, before create returns (the mail layer makes the
   * domain's DKIM keys; a crash in between is made good at the next start).
   */
  onCreated(hook: (domainId: number) => Promise<unknown>): void {
    this.#created.push(hook);
  }

  /** A domain by id, or undefined. */
  get(id: number): Promise<Domain | undefined> {
    return this.store.domains.get(id);
  }

  /** A domain by name (case-insensitive), or undefined. */
  getByName(name: string): Promise<Domain | undefined> {
    return this.store.domains.getByName(name);
  }

  /** Every domain, oldest first. */
  list(): Promise<Domain[]> {
    return this.store.domains.list();
  }

  /** Creates a domain; its name must be free. */
  async create(
    input: {
      name: string;
      description?: string | null;
      dmarcEnforcement?: DmarcEnforcement;
      catchAll?: string | null;
      mtaStsMode?: MtaStsMode;
    },
  ): Promise<Domain> {
    const id = await this.accounts.write(async () => {
      const existing = await this.store.domains.getByName(input.name);
      if (existing) {
        throw new ConflictError(
          `Cannot create domain "${input.name}": it already exists`,
          "alreadyExists",
          [],
          existing.id,
        );
      }
      const id = await this.store.domains.insert({
        name: input.name,
        description: input.description ?? null,
        dmarcEnforcement: input.dmarcEnforcement,
        catchAll: input.catchAll ?? null,
        mtaStsMode: input.mtaStsMode,
      });
      return {
        result: id,
        events: [{ kind: "domain", domainId: id }],
        changes: [changed("Domain", id, "created")],
      };
    });
    for (const hook of this.#created) await hook(id);
    return (await this.store.domains.get(id))!;
  }

  /** Renames, re-describes or re-sets a domain (DMARC enforcement, catch-all); addresses follow the new name. */
  async update(
    id: number,
    patch: {
      name?: string;
      description?: string | null;
      dmarcEnforcement?: DmarcEnforcement;
      catchAll?: string | null;
      mtaStsMode?: MtaStsMode;
    },
  ): Promise<Domain> {
    const before = await this.store.domains.get(id);
    if (!before) throw new NotFoundError("Domain", encodeId(id));
    await this.accounts.write(async () => {
      if (patch.name !== undefined && patch.name !== before.name) {
        const other = await this.store.domains.getByName(patch.name);
        if (other && other.id !== id) {
          throw new ConflictError(
            `Cannot rename domain "${before.name}" to "${patch.name}": it already exists`,
            "alreadyExists",
            [],
            other.id,
          );
        }
      }
      await this.store.domains.update(id, patch);
      // A rename changes the address of every account in the domain.
      const isRename = patch.name !== undefined && patch.name !== before.name;
      const renamed = isRename ? await this.store.accounts.query({ domainId: id }) : [];
      // …and the DNS name of each of its DKIM keys.
      const keys = isRename ? await this.store.dkimKeys.idsOfDomain(id) : [];
      return {
        result: id,
        events: [{ kind: "domain", domainId: id }],
        changes: [
          changed("Domain", id, "updated"),
          ...renamed.map((a) => changed("Account", a, "updated", a)),
          ...keys.map((k) => changed("DkimKey", k, "updated")),
        ],
      };
    });
    return (await this.store.domains.get(id))!;
  }

  /** Deletes a domain, refused with the names of what still uses it. */
  async delete(id: number): Promise<Domain> {
    const domain = await this.store.domains.get(id);
    if (!domain) throw new NotFoundError("Domain", encodeId(id));
    await this.accounts.write(async () => {
      const usage = await this.store.domains.usage(id);
      if (usage.length) {
        throw new ConflictError(
          `Cannot delete domain "${domain.name}": still used by ${usage.join(", ")}`,
          "inUse",
          usage,
        );
      }
      // Its DKIM keys go with it (ON DELETE CASCADE).
      const keys = await this.store.dkimKeys.idsOfDomain(id);
      await this.store.domains.delete(id);
      return {
        result: id,
        events: [{ kind: "domain", domainId: id }],
        changes: [changed("Domain", id, "destroyed"), ...keys.map((k) => changed("DkimKey", k, "destroyed"))],
      };
    });
    return domain;
  }
}
