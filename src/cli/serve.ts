/** `postern serve`: run the server. */
import { getLogger } from "@logtape/logtape";
import { closeLogging, type ConfigInput, setupLogging, StartError } from "../config/mod.ts";
import { MisconfigurationError } from "../model/errors.ts";
import { serve } from "../server.ts";
import { configFrom, type GlobalOptions } from "./io.ts";

/** Starts the server on the configured address until SIGINT/SIGTERM, then exits with status 0. */
export async function serveCommand(options: GlobalOptions & ConfigInput): Promise<void> {
  const config = configFrom(options);
  await setupLogging(config.logLevel);
  try {
    await serve(config);
  } catch (error) {
    // Once logging is JSON, so is a failed start: one line naming the cause (and the flag to change);
    // a stack only for what nobody foresaw.
    const known = error instanceof StartError || error instanceof MisconfigurationError;
    const message = error instanceof Error ? error.message : String(error);
    getLogger(["postern", "start"]).error("{message}", known ? { message } : { message, error });
    await closeLogging();
    Deno.exit(1);
  }
  await closeLogging();
  // A connection still open after the shutdown grace (a client that stopped in the middle of an
  // upload) would keep the process alive: the server has stopped, so the process ends.
  Deno.exit(0);
}
