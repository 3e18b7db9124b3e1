import assert from "node:assert/strict";
import { dataDirError, listenError } from "./start_error.ts";

Deno.test("a low port refused to an unprivileged user names the capability and --listen", () => {
  const error = listenError(
    new Deno.errors.PermissionDenied("Permission denied (os error 13)"),
    "0.0.0.0",
    443,
  );
  assert.equal(
    error.message,
    "Cannot listen on 0.0.0.0:443: permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE, " +
      "see deploy/postern.service); change --listen (POSTERN_LISTEN)",
  );
});

Deno.test("an IPv6 listen address is shown in brackets, as --listen takes it", () => {
  const error = listenError(new Deno.errors.AddrInUse("Address already in use (os error 98)"), "::1", 8080);
  assert.match(error.message, /^Cannot listen on \[::1\]:8080: the address is already in use/);
});

Deno.test("a data directory this user cannot write names --data", () => {
  const error = dataDirError(
    new Deno.errors.PermissionDenied("Permission denied (os error 13): mkdir '/srv/x'"),
    "/srv/x",
  );
  assert.equal(
    error.message,
    `Cannot use the data directory "/srv/x": it is not writable by this user (Permission denied (os error 13): ` +
      `mkdir '/srv/x'); change --data (POSTERN_DATA) or its owner`,
  );
});
