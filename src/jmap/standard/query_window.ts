/** Filtering, sorting and windowing of /query results in memory (RFC 8620 §5.5). */
import { MethodError } from "../errors.ts";
import type { Comparator, Filter, FilterOperator } from "../types.ts";
import type { DataType, JmapObject, QueryOutcome, QueryWindow } from "./data_type.ts";

/** Validates a filter against the type's conditions; unknown ones are `unsupportedFilter`. */
export function checkFilter(type: DataType, filter: unknown, depth = 0): Filter | null {
  if (filter === null || filter === undefined) return null;
  if (typeof filter !== "object" || Array.isArray(filter)) {
    throw new MethodError(
      "invalidArguments",
      '"filter" must be a FilterOperator or a FilterCondition object',
    );
  }
  if (depth > 16) throw new MethodError("unsupportedFilter", "The filter is nested too deeply");
  const record = filter as Record<string, unknown>;
  if ("operator" in record) {
    if (!["AND", "OR", "NOT"].includes(record.operator as string) || !Array.isArray(record.conditions)) {
      throw new MethodError(
        "invalidArguments",
        'A FilterOperator needs "operator" (AND, OR, NOT) and "conditions"',
      );
    }
    for (const condition of record.conditions) checkFilter(type, condition, depth + 1);
    return record as unknown as FilterOperator;
  }
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(type.conditions, key)) {
      throw new MethodError(
        "unsupportedFilter",
        `${type.name}/query has no filter "${key}"; it supports ${Object.keys(type.conditions).join(", ")}`,
      );
    }
  }
  return record;
}

/** Validates sort criteria; unknown properties or collations are `unsupportedSort`. */
export function checkSort(type: DataType, sort: unknown): Comparator[] {
  if (sort === undefined || sort === null) return [];
  if (!Array.isArray(sort)) {
    throw new MethodError("invalidArguments", '"sort" must be an array of Comparators');
  }
  return sort.map((c) => {
    if (c === null || typeof c !== "object" || typeof c.property !== "string") {
      throw new MethodError("invalidArguments", 'Each Comparator needs a "property"');
    }
    if (!type.sortable.includes(c.property)) {
      throw new MethodError("unsupportedSort", `${type.name}/query cannot sort by "${c.property}"`);
    }
    if (c.collation !== undefined && c.collation !== "i;unicode-casemap") {
      throw new MethodError("unsupportedSort", `Unsupported collation "${c.collation}"`);
    }
    if (c.isAscending !== undefined && typeof c.isAscending !== "boolean") {
      throw new MethodError("invalidArguments", '"isAscending" must be true or false');
    }
    return c as Comparator;
  });
}

/** Whether an object matches a filter. */
export function matches(type: DataType, object: JmapObject, filter: Filter | null): boolean {
  if (!filter) return true;
  if ("operator" in filter && Array.isArray((filter as FilterOperator).conditions)) {
    const op = filter as FilterOperator;
    const results = op.conditions.map((c) => matches(type, object, c));
    if (op.operator === "AND") return results.every(Boolean);
    if (op.operator === "OR") return results.some(Boolean);
    return !results.some(Boolean);
  }
  return Object.entries(filter).every(([key, value]) => type.conditions[key](object, value));
}

/** Sorts objects by comparators (then by id, so the order is total and stable). */
export function sortObjects(objects: JmapObject[], sort: Comparator[]): JmapObject[] {
  const collator = new Intl.Collator("en", { sensitivity: "base", numeric: true });
  const compare = (a: unknown, b: unknown): number => {
    if (a === b) return 0;
    if (a === null || a === undefined) return 1;
    if (b === null || b === undefined) return -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
    return collator.compare(String(a), String(b));
  };
  return [...objects].sort((x, y) => {
    for (const c of sort) {
      const result = compare(x[c.property], y[c.property]);
      if (result !== 0) return c.isAscending === false ? -result : result;
    }
    return compare(x.id, y.id);
  });
}

/** Applies position, anchor, anchorOffset and limit to a full ordered id list. */
export function windowIds(all: string[], window: QueryWindow, maxLimit: number): QueryOutcome {
  const total = all.length;
  let position = window.position;
  if (window.anchor !== null) {
    const index = all.indexOf(window.anchor);
    if (index < 0) throw new MethodError("anchorNotFound", `Anchor "${window.anchor}" is not in the results`);
    position = Math.max(0, index + window.anchorOffset);
  } else if (position < 0) {
    position = Math.max(0, total + position);
  }
  const limit = Math.min(window.limit ?? maxLimit, maxLimit);
  return {
    ids: all.slice(position, position + limit),
    position: Math.min(position, total),
    ...(window.calculateTotal ? { total } : {}),
  };
}
