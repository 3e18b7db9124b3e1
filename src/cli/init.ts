/** `postern init`: create the data directory, key, domain and admin without serving. */
import type { ConfigInput } from "../config/mod.ts";
import { bootstrap } from "../directory/mod.ts";
import { openData } from "../server.ts";
import { configFrom, type GlobalOptions, output } from "./io.ts";
import { complain, say, streams } from "./streams.ts";

/** Options of `postern init`. */
export interface InitOptions extends GlobalOptions, ConfigInput {
  apiKey?: boolean;
}

/**
 * Idempotent first start for scripted installs: the first run creates everything and an admin API
 * key; later runs create nothing (and a new API key only with --new-api-key).
 */
export async function initCommand(options: InitOptions & { newApiKey?: boolean }): Promise<void> {
  const config = configFrom(options);
  const { services, keyCreated } = await openData(config, {
    hashWorkers: 1,
    env: streams().env,
    notice: (message) => complain(`postern: ${message}`),
  });
  try {
    const before = await services.accounts.query({ type: "User" });
    const result = await bootstrap(services, {
      domain: config.domain,
      adminPassword: config.adminPassword,
      createApiKey: before.length === 0 || options.newApiKey === true,
    });
    const report = {
      created: result.created,
      dataDir: config.dataDir,
      database: config.databasePath,
      encryptionKeyCreated: keyCreated,
      domain: result.domain,
      admin: result.admin,
      ...(result.generatedPassword ? { adminPassword: result.generatedPassword } : {}),
      ...(result.apiKey ? { apiKey: result.apiKey } : {}),
    };
    if (options.json) output(report, options);
    else {
      say(
        result.created ? `Initialized ${config.dataDir}` : `${config.dataDir} is already initialized`,
      );
      output(report, options);
      if (result.generatedPassword || result.apiKey) say("Secrets above are shown only this once.");
    }
  } finally {
    await services.close();
  }
}
