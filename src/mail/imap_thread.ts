/**
 * THREAD (RFC 5256 §4): ORDEREDSUBJECT and REFERENCES over the messages a search found, from the
 * Message-ID, In-Reply-To and References kept at import and the stored subject and sent date;
 * never from the message. Pure. Read in order: orderedSubject, references (its steps numbered as
 * in the RFC), then the helpers.
 */
import { baseSubject, headersOf, type SortFacts } from "./imap_sort.ts";

/** A node of a thread tree: a message (its UID) or a dummy standing for a missing parent. */
export interface ThreadNode {
  uid?: number;
  children: ThreadNode[];
}

interface Msg {
  uid: number;
  date: number;
  subject: { base: string; isReply: boolean };
}

const msgOf = (row: SortFacts): Msg => ({
  uid: row.uid,
  date: row.sentMs,
  subject: baseSubject(row.subject),
});

/** Sent date, then UID (= sequence order): RFC 5256's tie-break. */
const byDate = (a: Msg, b: Msg) => a.date - b.date || a.uid - b.uid;

/**
 * ORDEREDSUBJECT (§4): messages grouped by base subject; in each group the first by sent date is
 * the parent of the others; groups in order of their first message's sent date.
 */
export function orderedSubject(rows: readonly SortFacts[]): ThreadNode[] {
  const groups = new Map<string, Msg[]>();
  for (const m of rows.map(msgOf).sort(byDate)) {
    const key = m.subject.base.toUpperCase();
    const group = groups.get(key);
    if (group) group.push(m);
    else groups.set(key, [m]);
  }
  return [...groups.values()].map(([first, ...rest]) => ({
    uid: first.uid,
    children: rest.map((m) => ({ uid: m.uid, children: [] })),
  }));
}

interface Container {
  msg?: Msg;
  parent?: Container;
  children: Container[];
}

/** REFERENCES (§4, after JWZ): threads by references, then merged by base subject. */
export function references(rows: readonly SortFacts[]): ThreadNode[] {
  const table = new Map<string, Container>();
  const all: Container[] = [];
  const fresh = (): Container => {
    const c: Container = { children: [] };
    all.push(c);
    return c;
  };
  const containerOf = (id: string) => {
    let c = table.get(id);
    if (!c) table.set(id, c = fresh());
    return c;
  };
  // (1) every message in the id table, linked to its references.
  for (const row of [...rows].sort((a, b) => a.uid - b.uid)) {
    const headers = headersOf(row);
    const ownId = headers.messageId?.[0];
    // (A) a duplicate or missing Message-ID makes the message a node of its own.
    const known = ownId !== undefined ? table.get(ownId) : undefined;
    const own = ownId !== undefined && !known?.msg ? containerOf(ownId) : fresh();
    own.msg = msgOf(row);
    const refs = headers.references?.length ? headers.references : headers.inReplyTo?.slice(0, 1) ?? [];
    // (B) each reference is the parent of the next, unless already linked or a loop would form.
    let previous: Container | undefined;
    for (const ref of refs) {
      const c = containerOf(ref);
      if (previous && !c.parent && !reaches(c, previous)) link(previous, c);
      previous = c;
    }
    // (C) the last reference is the message's parent, replacing any parent it had.
    if (own.parent) unlink(own);
    if (previous && !reaches(own, previous)) link(previous, own);
  }
  // (2) the root set; (3) the id table is no longer needed; (4) dummies pruned.
  let roots = prune(all.filter((c) => !c.parent), true);
  // (5) the root set by sent date, then (B)(C) merged by base subject.
  roots.sort(compareContainers);
  roots = mergeBySubject(roots);
  // (6) siblings at every level by sent date.
  const sortAll = (list: Container[]) => {
    list.sort(compareContainers);
    for (const c of list) sortAll(c.children);
  };
  sortAll(roots);
  const toNode = (c: Container): ThreadNode => ({ uid: c.msg?.uid, children: c.children.map(toNode) });
  return roots.map(toNode);
}

function link(parent: Container, child: Container): void {
  child.parent = parent;
  parent.children.push(child);
}

function unlink(child: Container): void {
  const parent = child.parent!;
  parent.children = parent.children.filter((c) => c !== child);
  child.parent = undefined;
}

/** Whether `to` is `from` or below it. */
function reaches(from: Container, to: Container): boolean {
  if (from === to) return true;
  return from.children.some((c) => reaches(c, to));
}

/**
 * (4) A dummy without children goes; a dummy with children is replaced by them, except at the root
 * when it has more than one (they stay grouped under it).
 */
function prune(list: Container[], atRoot: boolean): Container[] {
  const out: Container[] = [];
  for (const c of list) {
    c.children = prune(c.children, false);
    for (const child of c.children) child.parent = c;
    if (c.msg) out.push(c);
    else if (c.children.length === 0) continue;
    else if (!atRoot || c.children.length === 1) {
      for (const child of c.children) child.parent = c.parent;
      out.push(...c.children);
    } else out.push(c);
  }
  return out;
}

/** The sent date of a container: its message's, or a dummy's earliest child's. */
function dateOf(c: Container): Msg | undefined {
  if (c.msg) return c.msg;
  let best: Msg | undefined;
  for (const child of c.children) {
    const d = dateOf(child);
    if (d && (!best || byDate(d, best) < 0)) best = d;
  }
  return best;
}

function compareContainers(a: Container, b: Container): number {
  const x = dateOf(a);
  const y = dateOf(b);
  return x && y ? byDate(x, y) : 0;
}

/** A root's subject: its message's, or a dummy's first child's. */
function subjectOf(c: Container): Msg["subject"] | undefined {
  return c.msg?.subject ?? [...c.children].sort(compareContainers)[0]?.msg?.subject;
}

/** (5)(B)–(C): roots with the same base subject are merged, as the RFC's rules say. */
function mergeBySubject(roots: Container[]): Container[] {
  const table = new Map<string, Container>();
  for (const c of roots) {
    const s = subjectOf(c);
    if (!s || s.base === "") continue;
    const key = s.base.toUpperCase();
    const old = table.get(key);
    if (!old || (old.msg && (!c.msg || (subjectOf(old)!.isReply && !s.isReply)))) table.set(key, c);
  }
  const out: Container[] = [];
  for (const c of roots) {
    if (c.parent) continue;
    const s = subjectOf(c);
    const key = s?.base.toUpperCase();
    const held = key ? table.get(key) : undefined;
    if (!s || s.base === "" || !held || held === c) {
      out.push(c);
      continue;
    }
    if (!held.msg && !c.msg) {
      for (const child of c.children) link(held, child);
      c.children = [];
    } else if (!held.msg) {
      link(held, c);
    } else if (s.isReply && !subjectOf(held)!.isReply) {
      link(held, c);
    } else {
      const dummy: Container = { children: [] };
      const at = out.indexOf(held);
      link(dummy, held);
      link(dummy, c);
      table.set(key!, dummy);
      if (at >= 0) out[at] = dummy;
      else out.push(dummy);
    }
  }
  return out.filter((c) => !c.parent);
}
