import type {
  Account,
  AccountSearch,
  AccountSearchResult,
  AccountType,
  Quotas,
  Role,
} from "../model/types.ts";
import type { Db, Row } from "./db.ts";
import { searchAccounts } from "./account_search.ts";

/** Fields stored for an account, as the directory service writes them. */
export interface AccountRecord {
  type: AccountType;
  name: string;
  domainId: number;
  description: string | null;
  locale: string | null;
  roles: Role[];
  quotas: Quotas;
  enabled: boolean;
  /** Forwarding addresses (absent on insert: none). */
  forwardTo?: string[];
  forwardKeepCopy?: boolean;
}

/** An address as stored: local part and domain. */
export interface AddressRecord {
  localPart: string;
  domainId: number;
}

/** Filter for listing accounts. */
export interface AccountFilter {
  type?: AccountType;
  domainId?: number;
  /** Substring of the name, description or any address. */
  text?: string;
  /** Exact name (case-insensitive). */
  name?: string;
  memberOf?: number;
}

/** Persistence of accounts, their addresses and group memberships. */
export interface AccountRepository {
  insert(record: AccountRecord, secret: Uint8Array): Promise<number>;
  get(id: number): Promise<Account | undefined>;
  getMany(ids: number[]): Promise<Account[]>;
  update(id: number, fields: Partial<AccountRecord>): Promise<void>;
  delete(id: number): Promise<boolean>;
  /** The account owning an address, or undefined. */
  idByAddress(localPart: string, domainName: string): Promise<number | undefined>;
  /** Accounts whose bare name equals `name` (in any domain). */
  idsByName(name: string): Promise<number[]>;
  /** Replaces the non-primary addresses. */
  setAliases(id: number, aliases: AddressRecord[]): Promise<void>;
  /** Which account, if any, holds this address. */
  addressOwner(address: AddressRecord): Promise<number | undefined>;
  /** Replaces the memberships; `sendAs` (a subset of `groupIds`) are those with the right to send as the group. */
  setGroups(id: number, groupIds: number[], sendAs?: number[]): Promise<void>;
  memberIds(groupId: number): Promise<number[]>;
  /** Ids matching the filter, ordered by id. */
  query(filter: AccountFilter): Promise<number[]>;
  /** A paged, ordered search with a filter tree (JMAP /query). */
  search(search: AccountSearch): Promise<AccountSearchResult>;
  count(type?: AccountType): Promise<number>;
  /** The per-account random secret (token key material for accounts without a password). */
  secret(id: number): Promise<Uint8Array | undefined>;
  /** What deleting this account removes, by kind, for confirmations. */
  dependents(id: number): Promise<Record<string, number>>;
}

function parseJson<T>(value: unknown, fallback: T): T {
  try {
    return typeof value === "string" ? JSON.parse(value) as T : fallback;
  } catch {
    return fallback;
  }
}

/** SQLite implementation of {@link AccountRepository}. */
export function sqliteAccounts(db: Db): AccountRepository {
  const loadMany = (ids: number[]): Account[] => {
    const out: Account[] = [];
    for (const id of ids) {
      const account = load(id);
      if (account) out.push(account);
    }
    return out;
  };
  const load = (id: number): Account | undefined => {
    const row = db.get(
      `SELECT a.*, d.name AS domain_name FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE a.id = ?`,
      id,
    );
    if (!row) return undefined;
    const addresses = db.all<{ address: string; is_primary: number }>(
      `SELECT ad.local_part || '@' || d.name AS address, ad.is_primary FROM addresses ad
       JOIN domains d ON d.id = ad.domain_id WHERE ad.account_id = ? ORDER BY ad.is_primary DESC, ad.id`,
      id,
    );
    const groups = db.all<{ group_id: number; send_as: number }>(
      "SELECT group_id, send_as FROM group_members WHERE member_id = ? ORDER BY group_id",
      id,
    );
    const password = db.get("SELECT 1 AS x FROM credentials WHERE account_id = ? AND type = 'Password'", id);
    return toAccount(row, addresses, {
      memberGroupIds: groups.map((g) => Number(g.group_id)),
      sendAsGroupIds: groups.filter((g) => Number(g.send_as) === 1).map((g) => Number(g.group_id)),
    }, password !== undefined);
  };

  return {
    insert(record, secret) {
      const now = Date.now();
      const { id } = db.run(
        `INSERT INTO accounts (type, name, domain_id, description, locale, roles, quotas, enabled, secret,
           created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        record.type,
        record.name,
        record.domainId,
        record.description,
        record.locale,
        JSON.stringify(record.roles),
        JSON.stringify(record.quotas),
        record.enabled ? 1 : 0,
        secret,
        now,
        now,
      );
      db.run(
        "INSERT INTO addresses (local_part, domain_id, account_id, is_primary) VALUES (?, ?, ?, 1)",
        record.name,
        record.domainId,
        id,
      );
      return Promise.resolve(id);
    },
    get: (id) => Promise.resolve(load(id)),
    getMany: (ids) => Promise.resolve(loadMany(ids)),
    update(id, fields) {
      const sets: string[] = [];
      const values: (string | number | null)[] = [];
      const put = (column: string, value: string | number | null) => {
        sets.push(`${column} = ?`);
        values.push(value);
      };
      if (fields.name !== undefined) put("name", fields.name);
      if (fields.domainId !== undefined) put("domain_id", fields.domainId);
      if (fields.description !== undefined) put("description", fields.description);
      if (fields.locale !== undefined) put("locale", fields.locale);
      if (fields.roles !== undefined) put("roles", JSON.stringify(fields.roles));
      if (fields.quotas !== undefined) put("quotas", JSON.stringify(fields.quotas));
      if (fields.enabled !== undefined) put("enabled", fields.enabled ? 1 : 0);
      if (fields.forwardTo !== undefined) put("forward_to", JSON.stringify(fields.forwardTo));
      if (fields.forwardKeepCopy !== undefined) put("forward_keep_copy", fields.forwardKeepCopy ? 1 : 0);
      put("updated_at", Date.now());
      db.run(`UPDATE accounts SET ${sets.join(", ")} WHERE id = ?`, ...values, id);
      if (fields.name !== undefined || fields.domainId !== undefined) {
        db.run(
          `UPDATE addresses SET local_part = (SELECT name FROM accounts WHERE id = ?1),
             domain_id = (SELECT domain_id FROM accounts WHERE id = ?1) WHERE account_id = ?1 AND is_primary = 1`,
          id,
        );
      }
      return Promise.resolve();
    },
    delete(id) {
      return Promise.resolve(db.run("DELETE FROM accounts WHERE id = ?", id).changes > 0);
    },
    idByAddress(localPart, domainName) {
      const row = db.get<{ account_id: number }>(
        `SELECT ad.account_id FROM addresses ad JOIN domains d ON d.id = ad.domain_id
         WHERE ad.local_part = ? AND d.name = ?`,
        localPart,
        domainName,
      );
      return Promise.resolve(row ? Number(row.account_id) : undefined);
    },
    idsByName(name) {
      const rows = db.all<{ id: number }>("SELECT id FROM accounts WHERE name = ? ORDER BY id", name);
      return Promise.resolve(rows.map((r) => Number(r.id)));
    },
    setAliases(id, aliases) {
      db.run("DELETE FROM addresses WHERE account_id = ? AND is_primary = 0", id);
      for (const alias of aliases) {
        db.run(
          "INSERT INTO addresses (local_part, domain_id, account_id, is_primary) VALUES (?, ?, ?, 0)",
          alias.localPart,
          alias.domainId,
          id,
        );
      }
      return Promise.resolve();
    },
    addressOwner(address) {
      const row = db.get<{ account_id: number }>(
        "SELECT account_id FROM addresses WHERE local_part = ? AND domain_id = ?",
        address.localPart,
        address.domainId,
      );
      return Promise.resolve(row ? Number(row.account_id) : undefined);
    },
    setGroups(id, groupIds, sendAs = []) {
      db.run("DELETE FROM group_members WHERE member_id = ?", id);
      for (const groupId of groupIds) {
        db.run(
          "INSERT OR IGNORE INTO group_members (group_id, member_id, send_as) VALUES (?, ?, ?)",
          groupId,
          id,
          sendAs.includes(groupId) ? 1 : 0,
        );
      }
      return Promise.resolve();
    },
    memberIds(groupId) {
      const rows = db.all<{ member_id: number }>(
        "SELECT member_id FROM group_members WHERE group_id = ? ORDER BY member_id",
        groupId,
      );
      return Promise.resolve(rows.map((r) => Number(r.member_id)));
    },
    query(filter) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      const add = (clause: string, ...values: (string | number)[]) => {
        where.push(clause);
        params.push(...values);
      };
      if (filter.type) add("a.type = ?", filter.type);
      if (filter.domainId !== undefined) add("a.domain_id = ?", filter.domainId);
      if (filter.name !== undefined) add("a.name = ?", filter.name);
      if (filter.memberOf !== undefined) {
        where.push("a.id IN (SELECT member_id FROM group_members WHERE group_id = ?)");
        params.push(filter.memberOf);
      }
      if (filter.text) {
        const like = `%${filter.text.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
        where.push(
          `(a.name LIKE ? ESCAPE '\\' OR a.description LIKE ? ESCAPE '\\' OR a.id IN (SELECT ad.account_id
            FROM addresses ad JOIN domains d ON d.id = ad.domain_id
            WHERE ad.local_part || '@' || d.name LIKE ? ESCAPE '\\'))`,
        );
        params.push(like, like, like);
      }
      const sql = `SELECT a.id FROM accounts a ${
        where.length ? "WHERE " + where.join(" AND ") : ""
      } ORDER BY a.id`;
      return Promise.resolve(db.all<{ id: number }>(sql, ...params).map((r) => Number(r.id)));
    },
    search(search) {
      return Promise.resolve(searchAccounts(db, search));
    },
    count(type) {
      const row = type
        ? db.get<{ n: number }>("SELECT count(*) AS n FROM accounts WHERE type = ?", type)
        : db.get<{ n: number }>("SELECT count(*) AS n FROM accounts");
      return Promise.resolve(Number(row?.n ?? 0));
    },
    secret(id) {
      const row = db.get<{ secret: Uint8Array }>("SELECT secret FROM accounts WHERE id = ?", id);
      return Promise.resolve(row?.secret);
    },
    dependents(id) {
      const count = (sql: string) => Number(db.get<{ n: number }>(sql, id, id)?.n ?? 0);
      return Promise.resolve({
        addresses: count("SELECT count(*) AS n FROM addresses WHERE account_id = ? OR 0 = ?"),
        credentials: count("SELECT count(*) AS n FROM credentials WHERE account_id = ? OR 0 = ?"),
        groupMemberships: count(
          "SELECT count(*) AS n FROM group_members WHERE member_id = ? OR group_id = ?",
        ),
        grants: count("SELECT count(*) AS n FROM acl WHERE grantee_id = ? OR owner_id = ?"),
        mailboxes: count("SELECT count(*) AS n FROM mailboxes WHERE account_id = ? OR 0 = ?"),
        messages: count("SELECT count(*) AS n FROM emails WHERE account_id = ? OR 0 = ?"),
        oauthGrants: Number(
          db.get<{ n: number }>(
            "SELECT count(*) AS n FROM oauth_grants WHERE account_id = ? AND expires_at > ?",
            id,
            Date.now(),
          )?.n ?? 0,
        ),
      });
    },
  };
}

function toAccount(
  row: Row,
  addresses: { address: string; is_primary: number }[],
  groups: { memberGroupIds: number[]; sendAsGroupIds: number[] },
  hasPassword: boolean,
): Account {
  const primary = addresses.find((a) => a.is_primary)?.address ?? `${row.name}@${row.domain_name}`;
  return {
    id: Number(row.id),
    type: row.type as AccountType,
    name: String(row.name),
    domainId: Number(row.domain_id),
    domainName: String(row.domain_name),
    description: row.description === null ? null : String(row.description),
    locale: row.locale === null ? null : String(row.locale),
    roles: parseJson<Role[]>(row.roles, []),
    quotas: parseJson<Quotas>(row.quotas, {}),
    enabled: Number(row.enabled) === 1,
    primaryAddress: primary,
    aliases: addresses.filter((a) => !a.is_primary).map((a) => a.address),
    ...groups,
    forwardTo: parseJson<string[]>(row.forward_to, []),
    forwardKeepCopy: row.forward_keep_copy === undefined || Number(row.forward_keep_copy) === 1,
    hasPassword,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
