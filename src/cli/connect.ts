/** Chooses the CLI's mode: a server (`--url`) through JMAP, or the local database file (`--data`). */
import { mailEndpoints } from "../config/mod.ts";
import { localClient, type ObjectClient } from "./client.ts";
import { configFrom, type GlobalOptions, UsageError } from "./io.ts";
import { streams } from "./streams.ts";
import { withLocalServices } from "./local.ts";
import { remoteClient } from "./remote_client.ts";

/** Options that select and authenticate a server. */
export interface ConnectOptions extends GlobalOptions {
  url?: string;
  apiKey?: string;
  user?: string;
  password?: string;
}

/** Runs `body` with a client for the chosen mode. */
export async function withClient<T>(
  options: ConnectOptions,
  body: (client: ObjectClient) => Promise<T>,
): Promise<T> {
  const env = streams().env;
  const url = options.url ?? env.POSTERN_URL;
  if (!url) {
    const config = configFrom(options);
    const mail = { mailEndpoints: mailEndpoints(config) };
    return await withLocalServices(config, (services) => body(localClient(services, mail)));
  }
  if (!/^https?:\/\/[^/]+/.test(url)) {
    throw new UsageError(`--url "${url}" must be an http(s) URL such as http://localhost:8080`);
  }
  const apiKey = options.apiKey ?? env.POSTERN_API_KEY;
  const user = options.user ?? env.POSTERN_USER;
  let password = options.password ?? env.POSTERN_PASSWORD;
  if (!apiKey && !user) {
    throw new UsageError(
      "--url needs credentials: --api-key KEY (or POSTERN_API_KEY), or --user NAME with a password",
    );
  }
  if (!apiKey && password === undefined) {
    if (!streams().stdinIsTerminal) {
      throw new UsageError("--user needs --password or POSTERN_PASSWORD when there is no terminal to ask on");
    }
    const { password: prompt } = await import("@inquirer/prompts");
    password = await prompt({ message: `Password for ${user}:`, mask: "*" });
  }
  return await body(await remoteClient({ url, apiKey, user, password }));
}
