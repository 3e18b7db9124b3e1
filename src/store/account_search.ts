/** Account searches pushed down to SQL: filter trees, ordering, paging, anchors and totals. */
import type {
  AccountCondition,
  AccountSearch,
  AccountSearchResult,
  AccountSortProperty,
  ConditionTree,
} from "../model/types.ts";
import type { Db } from "./db.ts";

type Param = string | number;

const ORDER: Record<AccountSortProperty, string> = {
  id: "a.id",
  name: "a.name COLLATE NOCASE",
  emailAddress: "(a.name || '@' || d.name) COLLATE NOCASE",
  description: "coalesce(a.description, '') COLLATE NOCASE",
  createdAt: "a.created_at",
  updatedAt: "a.updated_at",
};

function escapeLike(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
}

function conditionSql(c: AccountCondition, params: Param[]): string {
  const parts: string[] = [];
  const add = (sql: string, ...values: Param[]) => {
    parts.push(sql);
    params.push(...values);
  };
  if (c.id !== undefined) add("a.id = ?", c.id);
  if (c.name !== undefined) add("a.name = ?", c.name);
  if (c.type !== undefined) add("a.type = ?", c.type);
  if (c.domainId !== undefined) add("a.domain_id = ?", c.domainId);
  if (c.enabled !== undefined) add("a.enabled = ?", c.enabled ? 1 : 0);
  if (c.memberOf !== undefined) {
    add("a.id IN (SELECT member_id FROM group_members WHERE group_id = ?)", c.memberOf);
  }
  if (c.emailAddress !== undefined) {
    add(
      `a.id IN (SELECT ad.account_id FROM addresses ad JOIN domains ad_d ON ad_d.id = ad.domain_id
        WHERE ad.local_part || '@' || ad_d.name = ? COLLATE NOCASE)`,
      c.emailAddress,
    );
  }
  if (c.text !== undefined) {
    const like = escapeLike(c.text);
    add(
      `(a.name LIKE ? ESCAPE '\\' OR a.description LIKE ? ESCAPE '\\' OR a.id IN (SELECT ad.account_id
        FROM addresses ad JOIN domains ad_d ON ad_d.id = ad.domain_id
        WHERE ad.local_part || '@' || ad_d.name LIKE ? ESCAPE '\\'))`,
      like,
      like,
      like,
    );
  }
  return parts.length ? `(${parts.join(" AND ")})` : "1";
}

function treeSql(tree: ConditionTree<AccountCondition>, params: Param[]): string {
  if ("operator" in tree && Array.isArray((tree as { conditions?: unknown }).conditions)) {
    const op = tree as { operator: "AND" | "OR" | "NOT"; conditions: ConditionTree<AccountCondition>[] };
    const inner = op.conditions.map((c) => treeSql(c, params));
    if (op.operator === "NOT") return inner.length ? `NOT (${inner.join(" OR ")})` : "1";
    if (inner.length === 0) return op.operator === "AND" ? "1" : "0";
    return `(${inner.join(op.operator === "AND" ? " AND " : " OR ")})`;
  }
  return conditionSql(tree as AccountCondition, params);
}

/** Runs an account search. */
export function searchAccounts(db: Db, search: AccountSearch): AccountSearchResult {
  const params: Param[] = [];
  const where = search.filter ? treeSql(search.filter, params) : "1";
  const order = [
    ...search.sort.map((s) => `${ORDER[s.property]} ${s.ascending ? "ASC" : "DESC"}`),
    "a.id ASC",
  ]
    .join(", ");
  // The domain is needed only to order by address; joining it otherwise keeps SQLite off the name index.
  const join = search.sort.some((s) => s.property === "emailAddress")
    ? "JOIN domains d ON d.id = a.domain_id"
    : "";
  const from = `FROM accounts a ${join} WHERE ${where}`;
  const needTotal = search.count || (search.anchorId === undefined && search.position < 0);
  const total = needTotal
    ? Number(db.get<{ n: number }>(`SELECT count(*) AS n ${from}`, ...params)?.n ?? 0)
    : undefined;
  let position = search.position;
  let anchorFound = true;
  if (search.anchorId !== undefined) {
    const row = db.get<{ rn: number }>(
      `SELECT rn FROM (SELECT a.id AS id, row_number() OVER (ORDER BY ${order}) - 1 AS rn ${from}) WHERE id = ?`,
      ...params,
      search.anchorId,
    );
    anchorFound = row !== undefined;
    position = Math.max(0, Number(row?.rn ?? 0) + (search.anchorOffset ?? 0));
  } else if (position < 0) {
    position = Math.max(0, total! + position);
  }
  const rows = db.all<{ id: number }>(
    `SELECT a.id AS id ${from} ORDER BY ${order} LIMIT ? OFFSET ?`,
    ...params,
    search.limit,
    position,
  );
  return {
    ids: rows.map((r) => Number(r.id)),
    position: total !== undefined ? Math.min(position, total) : position,
    ...(search.count ? { total } : {}),
    anchorFound,
  };
}
