import assert from "node:assert/strict";
import { MethodError, setError } from "./errors.ts";

Deno.test("set and method error types are closed lists: a misspelled one does not compile", () => {
  // @ts-expect-error: RFC 8621 §2.5 names it mailboxHasChild.
  const misspelled = setError("mailboxHasChildren", "The mailbox has children");
  assert.equal(misspelled.type, "mailboxHasChildren");
  assert.equal(setError("mailboxHasChild", "The mailbox has children").type, "mailboxHasChild");
  // @ts-expect-error: RFC 8620 §3.6.2 names it invalidArguments.
  assert.equal(new MethodError("invalidArgument").type, "invalidArgument");
});
