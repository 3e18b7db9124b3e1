/**
 * Short-lived single-use tickets for browser WebSockets and EventSources, which cannot send an
 * Authorization header. A ticket stands for the credential it was obtained with: redeeming it gives
 * that credential back, to be authenticated again then, so a credential revoked in between voids its
 * tickets too. Tickets live in this process's memory only; they are never written anywhere.
 */

/** What a ticket was issued for. */
export interface TicketGrant {
  /** The Authorization header the ticket was obtained with. */
  authorization: string;
  accountId: number;
}

/** An issued ticket. */
export interface IssuedTicket {
  ticket: string;
  /** When it stops being accepted (ms since the epoch). */
  expiresAt: number;
}

/** How long a ticket is accepted by default. */
export const TICKET_LIFETIME_MS = 60_000;
/** Outstanding tickets per account: asking for more drops the oldest. */
const PER_ACCOUNT = 16;
/** Outstanding tickets of the whole process: past it the oldest goes. */
const TOTAL = 10_000;

/** The outstanding tickets of this process. */
export class TicketBook {
  // Insertion order is issue order: the first entries are the oldest.
  readonly #tickets = new Map<string, TicketGrant & { expiresAt: number }>();
  readonly #now: () => number;
  readonly lifetimeMs: number;

  constructor(options: { now?: () => number; lifetimeMs?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.lifetimeMs = options.lifetimeMs ?? TICKET_LIFETIME_MS;
  }

  /** Issues a ticket for `grant`. */
  issue(grant: TicketGrant): IssuedTicket {
    const now = this.#now();
    this.#prune(now);
    const mine = [...this.#tickets].filter(([, held]) => held.accountId === grant.accountId);
    for (const [ticket] of mine.slice(0, Math.max(0, mine.length - PER_ACCOUNT + 1))) {
      this.#tickets.delete(ticket);
    }
    if (this.#tickets.size >= TOTAL) this.#tickets.delete(this.#tickets.keys().next().value!);
    const ticket = randomTicket();
    const expiresAt = now + this.lifetimeMs;
    this.#tickets.set(ticket, { ...grant, expiresAt });
    return { ticket, expiresAt };
  }

  /** Takes a ticket (it cannot be used again); undefined when unknown, used or expired. */
  redeem(ticket: string): TicketGrant | undefined {
    const held = this.#tickets.get(ticket);
    if (!held) return undefined;
    this.#tickets.delete(ticket);
    if (held.expiresAt <= this.#now()) return undefined;
    return { authorization: held.authorization, accountId: held.accountId };
  }

  /** Outstanding tickets (for tests). */
  get size(): number {
    return this.#tickets.size;
  }

  #prune(now: number): void {
    for (const [ticket, held] of this.#tickets) if (held.expiresAt <= now) this.#tickets.delete(ticket);
  }
}

/** 256 random bits, base64url, with a prefix that tells what it is in a log or a bug report. */
function randomTicket(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return "wst_" +
    btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
