import assert from "node:assert/strict";
import { NotFoundError, UnavailableError } from "../../model/errors.ts";
import { busyOrSetError } from "./set.ts";

Deno.test("a busy database fails a /set call that wrote nothing yet as a whole (serverUnavailable, retry all)", () => {
  assert.throws(() => busyOrSetError(new UnavailableError("busy"), 0), UnavailableError);
});

Deno.test("a busy database after part of a /set was written reports the rest per object, so a retry repeats nothing", () => {
  const error = busyOrSetError(new UnavailableError("The database is busy"), 2);
  assert.equal(error.type, "serverUnavailable");
  assert.equal(error.description, "The database is busy");
  // Other failures keep their own SetError.
  assert.equal(busyOrSetError(new NotFoundError("Mailbox", "x"), 2).type, "notFound");
});
