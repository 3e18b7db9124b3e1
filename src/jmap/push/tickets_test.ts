import assert from "node:assert/strict";
import { TicketBook } from "./tickets.ts";

const grant = { authorization: "Basic YTpi", accountId: 7 };

Deno.test("a ticket gives its credential back once, then never again", () => {
  const book = new TicketBook();
  const { ticket } = book.issue(grant);
  assert.match(ticket, /^wst_[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(book.redeem(ticket), grant);
  assert.equal(book.redeem(ticket), undefined);
  assert.equal(book.size, 0);
});

Deno.test("a ticket is refused from its expiry on, and an expired one is forgotten", () => {
  let now = 1_000_000;
  const book = new TicketBook({ now: () => now, lifetimeMs: 60_000 });
  const late = book.issue(grant);
  assert.equal(late.expiresAt, 1_060_000);
  const inTime = book.issue(grant);
  now = 1_059_999;
  assert.deepEqual(book.redeem(inTime.ticket), grant);
  now = 1_060_000;
  assert.equal(book.redeem(late.ticket), undefined);
  book.issue(grant);
  assert.equal(book.size, 1, "issuing drops expired tickets");
});

Deno.test("an unknown ticket is refused; tickets differ every time", () => {
  const book = new TicketBook();
  const tickets = new Set(Array.from({ length: 10 }, () => book.issue(grant).ticket));
  assert.equal(tickets.size, 10);
  assert.equal(book.redeem("wst_" + "A".repeat(43)), undefined);
  assert.equal(book.redeem(""), undefined);
});

Deno.test("an account holds at most 16 outstanding tickets: asking for more drops its oldest", () => {
  const book = new TicketBook();
  const first = book.issue(grant);
  const other = book.issue({ authorization: "Basic Yzpk", accountId: 8 });
  for (let i = 0; i < 16; i++) book.issue(grant);
  assert.equal(book.size, 17);
  assert.equal(book.redeem(first.ticket), undefined);
  assert.equal(book.redeem(other.ticket)?.accountId, 8, "another account's ticket stays");
});
