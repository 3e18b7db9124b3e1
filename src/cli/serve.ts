/** `postern serve`: run the server. */
import { closeLogging, type ConfigInput, setupLogging } from "../config/mod.ts";
import { serve } from "../server.ts";
import { configFrom, type GlobalOptions } from "./io.ts";

/** Starts the server on the configured address until SIGINT/SIGTERM, then exits with status 0. */
export async function serveCommand(options: GlobalOptions & ConfigInput): Promise<void> {
  const config = configFrom(options);
  await setupLogging(config.logLevel);
  await serve(config);
  await closeLogging();
  // A connection still open after the shutdown grace (a client that stopped in the middle of an
  // upload) would keep the process alive: the server has stopped, so the process ends.
  Deno.exit(0);
}
