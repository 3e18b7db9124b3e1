import { changeState } from "../model/change_state.ts";
import type { AccountChange, LoggedChange, Store } from "./deps.ts";

/** The change log as the JMAP surface reads it: state strings and changes since a state. */
export class ChangeService {
  constructor(private readonly store: Store) {}

  /** The current state string of a type in a scope (null: directory-wide). */
  async state(type: string, accountId: number | null): Promise<string> {
    return changeState(await this.store.changes.position(type, accountId));
  }

  /** The newest change of the log (a cursor for {@link after}). */
  lastId(): Promise<number> {
    return this.store.changes.lastId();
  }

  /** Calls `listener` after each commit of this process that logged changes; returns how to stop. */
  onAppended(listener: () => void): () => void {
    return this.store.changes.onAppended(listener);
  }

  /** Per-account changes after a cursor, oldest first: what push tells clients about. */
  after(afterId: number, limit: number): Promise<AccountChange[]> {
    return this.store.changes.after(afterId, limit);
  }

  /**
   * Changes after a state, oldest first (only those of objects owned by `ownerId` when given);
   * undefined when the state is not one this log issued.
   */
  async since(
    type: string,
    accountId: number | null,
    state: string,
    options: { limit: number; ownerId?: number },
  ): Promise<LoggedChange[] | undefined> {
    if (!/^(0|[1-9]\d{0,15})$/.test(state)) return undefined;
    const position = Number(state);
    if (position > await this.store.changes.position(type, accountId)) return undefined;
    return await this.store.changes.since(type, accountId, position, options);
  }
}
