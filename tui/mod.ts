/**
 * The interactive terminal admin UI (`postern tui`, or `postern` alone on a terminal): the CLI's object
 * client on the local database file (`--data`) or on a server (`--url`), in screens of prompts.
 *
 * The CLI lends its connection code through {@link TuiHost} (main.ts wires it), so both surfaces reach
 * the data the same way while this folder imports no file of src/cli.
 */
import { resolveDnsServers } from "../src/config/mod.ts";
import { checkDnsRecords, DnsResolver } from "../src/dns/mod.ts";
import type { Services } from "../src/services.ts";
import { type AdminBackend, localBackend, remoteBackend, type TuiClient } from "./backend.ts";
import { runHome } from "./home.ts";
import { authorizationFor } from "./remote.ts";
import { Key, processTerminal, Prompts, QuitSignal, type Terminal } from "./terminal.ts";
import { Ui } from "./ui.ts";

export type { AdminBackend, TuiClient } from "./backend.ts";
export { localBackend, remoteBackend } from "./backend.ts";
export type { Terminal } from "./terminal.ts";
export { fieldLabel, formFields, promptKind } from "./schema_form.ts";
export type { FormField, PromptKind, SchemaField, SchemaType } from "./schema_form.ts";
export { settingsChoices, settingsForm } from "./settings.ts";
export { Ui } from "./ui.ts";

/** The CLI's global options the UI reads. */
export interface TuiOptions {
  data?: string;
  url?: string;
  apiKey?: string;
  user?: string;
  password?: string;
  /** DNS servers the DNS screen's check asks (`--dns-server`, POSTERN_DNS_SERVER); none: the system's. */
  dnsServer?: string;
}

/** Paths of the local database, for the dashboard. */
export interface LocalPaths {
  dataDir: string;
  databasePath: string;
}

/** What the CLI lends the UI: its two ways of connecting, and its usage error (exit code 2). */
export interface TuiHost {
  /** Runs `body` on the local database: the CLI's local object client and the services under it. */
  withLocal<T>(
    options: TuiOptions,
    body: (client: TuiClient, services: Services, paths: LocalPaths) => Promise<T>,
  ): Promise<T>;
  /** Runs `body` with the CLI's object client over a server. */
  withRemote<T>(options: TuiOptions, body: (client: TuiClient) => Promise<T>): Promise<T>;
  usageError(message: string): Error;
}

/** What `postern tui` says, at once, when there is no terminal to draw on. */
export const NO_TERMINAL_MESSAGE = [
  "postern tui needs a terminal: standard input and output must both be a TTY.",
  "Without one, the CLI does the same tasks, for example:",
  "  postern query account            postern create account/user --field name=NAME --field domainId=ID",
  "  postern query domain             postern update cache singleton --field ttlSeconds=600",
  "  postern describe                 postern db check --repair",
  "See postern --help.",
].join("\n");

/** `postern tui`: checks for a terminal before anything else, connects, and runs the UI. */
export async function tuiCommand(
  options: TuiOptions,
  host: TuiHost,
  terminal: Terminal = processTerminal(),
): Promise<void> {
  if (!Deno.stdin.isTerminal() || !Deno.stdout.isTerminal()) throw host.usageError(NO_TERMINAL_MESSAGE);
  const env = Deno.env.toObject();
  const url = options.url ?? env.POSTERN_URL;
  const servers = resolveDnsServers(options.dnsServer, env);
  const withDnsCheck = (backend: AdminBackend): AdminBackend => ({
    ...backend,
    checkDns: (domain, records) => checkDnsRecords(domain, records, new DnsResolver({ servers })),
  });
  if (!url) {
    await host.withLocal(
      options,
      (client, services, paths) => runUi(terminal, withDnsCheck(localBackend(client, services, paths))),
    );
    return;
  }
  const remote = {
    url,
    apiKey: options.apiKey ?? env.POSTERN_API_KEY,
    user: options.user ?? env.POSTERN_USER,
    password: options.password ?? env.POSTERN_PASSWORD,
  };
  // Asked here rather than by the CLI, so the UI can also reach /metrics and x:Action with it.
  if (!remote.apiKey && remote.user && remote.password === undefined) {
    const answer = await new Prompts(terminal).secret(`Password for ${remote.user} at ${url}:`);
    if (answer instanceof Key) return;
    remote.password = answer;
  }
  await host.withRemote(
    { ...options, ...remote },
    (client) =>
      runUi(terminal, withDnsCheck(remoteBackend(client, { url, authorization: authorizationFor(remote) }))),
  );
}

const ALTERNATE_SCREEN = "\x1b[?1049h";
const MAIN_SCREEN = "\x1b[?1049l\x1b[?25h";

/** Runs the UI on a terminal until the user quits (q on the home screen, or Ctrl+C). */
export async function runUi(terminal: Terminal, backend: AdminBackend): Promise<void> {
  const ui = new Ui(terminal, backend);
  ui.write(ALTERNATE_SCREEN);
  try {
    await runHome(ui);
  } catch (error) {
    if (!(error instanceof QuitSignal)) throw error;
  } finally {
    ui.write(MAIN_SCREEN);
  }
}
