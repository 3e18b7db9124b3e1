/** `postern serve`: run the server. */
import { type ConfigInput, setupLogging } from "../config/mod.ts";
import { serve } from "../server.ts";
import { configFrom, type GlobalOptions } from "./io.ts";

/** Starts the server on the configured address until SIGINT/SIGTERM. */
export async function serveCommand(options: GlobalOptions & ConfigInput): Promise<void> {
  const config = configFrom(options);
  await setupLogging(config.logLevel);
  await serve(config);
}
