/**
 * Start errors in one line each: what failed, why, and the flag (or variable) to change. `postern
 * serve` checks its address and its data directory before it creates anything, so a failed start
 * never leaves a once-only password printed for an admin nobody can use yet.
 */
/** A start that cannot go on; the message is the one line an operator reads. */
export class StartError extends Error {
  override name = "StartError";
}

/** `host:port` as it would be typed to --listen (IPv6 in brackets). */
export function listenAddress(hostname: string, port: number): string {
  return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

/** Binds the public address, or explains in one line why it cannot. */
export function listenOrExplain(hostname: string, port: number, reusePort = false): Deno.TcpListener {
  try {
    // reusePort only when asked: it needs Deno's unstable net feature (see processes_config.ts).
    return Deno.listen({ hostname, port, transport: "tcp", ...(reusePort ? { reusePort } : {}) });
  } catch (error) {
    throw listenError(error, hostname, port);
  }
}

/** Why a listening address cannot be bound, naming it and the flag that sets it (--listen by default). */
export function listenError(
  error: unknown,
  hostname: string,
  port: number,
  flag = "--listen (POSTERN_LISTEN)",
): StartError {
  const address = listenAddress(hostname, port);
  // node:net (the SMTP listeners) reports the same causes as error codes.
  const code = (error as { code?: unknown })?.code;
  const cause = error instanceof Deno.errors.AddrInUse || code === "EADDRINUSE"
    ? "the address is already in use (another Postern or another server?)"
    : error instanceof Deno.errors.PermissionDenied || code === "EACCES"
    ? `permission denied${
      port < 1024 ? " (a port below 1024 needs root or CAP_NET_BIND_SERVICE, see deploy/postern.service)" : ""
    }`
    : error instanceof Deno.errors.AddrNotAvailable || code === "EADDRNOTAVAIL"
    ? "no network interface of this machine has that address"
    : code === "ENOTFOUND" ||
        /lookup address|Name or service not known/i.test(String((error as Error)?.message))
    ? "the host name does not resolve"
    : (error as Error)?.message ?? String(error);
  return new StartError(`Cannot listen on ${address}: ${cause}; change ${flag}`);
}

/** Why the data directory (or the key file in it) cannot be used, naming it and --data. */
export function dataDirError(error: unknown, dataDir: string): StartError {
  const message = (error as Error)?.message ?? String(error);
  const cause = error instanceof Deno.errors.PermissionDenied || /readonly|read-only/i.test(message)
    ? `it is not writable by this user (${message})`
    : message;
  return new StartError(
    `Cannot use the data directory "${dataDir}": ${cause}; change --data (POSTERN_DATA) or its owner`,
  );
}
