/**
 * The IMAP mail service's mailbox views (imap_view.ts), one per mailbox, shared by every session of
 * this process that selects it. Why a cache at all: SELECT and `FETCH 1:* (FLAGS UID)` of a
 * 100,000-message mailbox read every row (a third of a second here), where Dovecot reads its index
 * file; a view brought up to date by the rows changed since its MODSEQ costs one state lookup when
 * nothing changed.
 *
 * Coherence does not rest on invalidation events but on MODSEQ, which every write of any process
 * bumps in the database (store/migrations/041_imap.ts): each use compares the view's HIGHESTMODSEQ
 * and UIDVALIDITY with the state just read and, when they differ, reads the changes since the view's
 * MODSEQ (or everything: a view newer than the database after a restore, an expunge log purged past
 * it). The view's MODSEQ is the one read in the same read transaction as its rows
 * (store/imap_view.ts), so a write that commits between that read and the view being kept is seen
 * at the next use. A view read inside this process's own open write transaction is answered with but
 * not kept (a rollback would leave it claiming rows that never were), and an older view never
 * replaces a newer one that a concurrent refresh kept first.
 *
 * Bounded: least recently used views go past `maxBytes` (a view costs about 32 bytes a message);
 * counters for hits, refreshes, full loads and evictions.
 */
import type { Store } from "./deps.ts";
import type { ImapMailboxState, ImapViewRead } from "../store/mod.ts";
import { applyChanges, ImapMailboxView, viewOfRead } from "./imap_view.ts";

/** Default bound of the views' memory: about 200,000 messages each across eight large mailboxes. */
export const DEFAULT_VIEW_BYTES = 64 * 1024 * 1024;

/** Counters of the views. */
export interface ImapViewStats {
  /** Views used as they were (MODSEQ unchanged). */
  hits: number;
  /** Views brought up to date from the rows changed since their MODSEQ. */
  refreshes: number;
  /** Views read whole (first use, evicted, UIDVALIDITY changed, log purged). */
  loads: number;
  evictions: number;
  views: number;
  bytes: number;
}

/** The per-mailbox views of one process. */
export class ImapViews {
  readonly #views = new Map<number, ImapMailboxView>();
  #bytes = 0;
  readonly #stats = { hits: 0, refreshes: 0, loads: 0, evictions: 0 };

  constructor(private readonly store: Pick<Store, "imap">, private readonly maxBytes = DEFAULT_VIEW_BYTES) {}

  /**
   * The view of a mailbox whose state was just read (`state`, by the rights check): the kept one
   * when its MODSEQ and UIDVALIDITY match, else brought up to date. Undefined when the mailbox is gone.
   */
  async view(state: ImapMailboxState): Promise<ImapMailboxView | undefined> {
    const kept = this.#views.get(state.mailboxId);
    if (kept && kept.highestModseq === state.highestModseq && kept.uidValidity === state.uidValidity) {
      this.#stats.hits++;
      this.#touch(kept);
      return kept;
    }
    const since = kept && kept.uidValidity === state.uidValidity && kept.highestModseq < state.highestModseq
      ? kept.highestModseq
      : undefined;
    const read = await this.store.imap.viewRead(state.mailboxId, since);
    if (!read) {
      this.forget(state.mailboxId);
      return undefined;
    }
    const fresh = read.full || !kept ? viewOfRead(read) : applyChanges(kept, read);
    if (read.full) this.#stats.loads++;
    else this.#stats.refreshes++;
    if (read.consistent) this.#keep(fresh);
    return fresh;
  }

  /** The kept view of a mailbox when it is at `state` (nothing is read). */
  peek(state: ImapMailboxState): ImapMailboxView | undefined {
    const kept = this.#views.get(state.mailboxId);
    return kept?.highestModseq === state.highestModseq && kept.uidValidity === state.uidValidity
      ? kept
      : undefined;
  }

  /**
   * The view at the state of `read` (the changes since `since` a session's sync just read): when the
   * kept view is at `since`, that read is its own refresh too; else as {@link view}.
   */
  async after(read: ImapViewRead, since: number): Promise<ImapMailboxView | undefined> {
    const kept = this.#views.get(read.state.mailboxId);
    if (
      read.consistent && !read.full && kept && kept.highestModseq === since &&
      kept.uidValidity === read.state.uidValidity
    ) {
      this.#stats.refreshes++;
      const fresh = applyChanges(kept, read);
      this.#keep(fresh);
      return fresh;
    }
    return await this.view(read.state);
  }

  /** Drops the view of a mailbox (it was deleted). */
  forget(mailboxId: number): void {
    const kept = this.#views.get(mailboxId);
    if (!kept) return;
    this.#views.delete(mailboxId);
    this.#bytes -= kept.bytes;
  }

  /** The counters, for metrics. */
  stats(): ImapViewStats {
    return { ...this.#stats, views: this.#views.size, bytes: this.#bytes };
  }

  #keep(view: ImapMailboxView): void {
    const kept = this.#views.get(view.mailboxId);
    // A concurrent refresh kept a newer one first: an older view never replaces it.
    if (kept && kept.uidValidity === view.uidValidity && kept.highestModseq > view.highestModseq) return;
    this.forget(view.mailboxId);
    if (view.bytes > this.maxBytes) return;
    this.#views.set(view.mailboxId, view);
    this.#bytes += view.bytes;
    for (const [id, old] of this.#views) {
      if (this.#bytes <= this.maxBytes) break;
      this.#views.delete(id);
      this.#bytes -= old.bytes;
      this.#stats.evictions++;
    }
  }

  /** Most recently used last (a Map iterates in insertion order). */
  #touch(view: ImapMailboxView): void {
    this.#views.delete(view.mailboxId);
    this.#views.set(view.mailboxId, view);
  }
}
