import type { Config } from "../config/mod.ts";
import { openData } from "../server.ts";
import type { Services } from "../services.ts";
import { UsageError } from "./io.ts";
import { complain, streams } from "./streams.ts";

/**
 * Runs `body` on the services over the local database file, the same services the server uses; the
 * invalidation log tells a running server about every write at its next request.
 */
export async function withLocalServices<T>(
  config: Config,
  body: (services: Services) => Promise<T>,
): Promise<T> {
  try {
    await Deno.stat(config.databasePath);
  } catch {
    throw new UsageError(
      `No Postern database at ${config.databasePath}; run \`postern init --data ${config.dataDir}\` first or pass --data`,
    );
  }
  // A stored setting that cannot be used is read as its default: said here, so it can be repaired.
  const { services } = await openData(config, {
    hashWorkers: 1,
    env: streams().env,
    warn: (message) => complain(`postern: warning: ${message}`),
    notice: (message) => complain(`postern: ${message}`),
  });
  try {
    return await body(services);
  } finally {
    await services.close();
  }
}
