/**
 * Postern's command table. Each command lazily imports its module, so `postern --help` and the
 * local CLI start fast and the server's modules load only for `serve`.
 */
import { Command, CommanderError, Option } from "commander";
import { ENVIRONMENT, mailEndpoints } from "./src/config/mod.ts";
import { SCHEMA_VERSION, VERSION } from "./src/version.ts";
import { type CliStreams, ExitRequest, PROCESS_STREAMS, withStreams } from "./src/cli/streams.ts";

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** What the CLI itself reads from the environment, besides the server's settings (ENVIRONMENT). */
const CLI_ENVIRONMENT = {
  POSTERN_URL: "server to act on instead of the local database, as --url (default: local mode)",
  POSTERN_API_KEY: "API key for POSTERN_URL, as --api-key",
  POSTERN_USER: "login for POSTERN_URL, as --user",
  POSTERN_PASSWORD: "password for POSTERN_USER, as --password (asked on a terminal when unset)",
  NO_COLOR: "when set and not empty, no colour even on a terminal (never any off a terminal)",
};

const EXIT_CODES = "\nExit codes: 0 done, 1 failed (refused, not found, invalid, busy), 2 usage mistake, " +
  "3 server unreachable.";

function program(chosen: CliStreams): Command {
  const cmd = new Command("postern")
    // Before the subcommands are added: each copies the output settings when it is made.
    .configureOutput({ writeOut: (s) => chosen.stdout(s), writeErr: (s) => chosen.stderr(s) })
    .description("Self-hosted JMAP mail and identity server: server, management CLI and admin tools")
    .version(`postern ${VERSION} (database schema ${SCHEMA_VERSION})`)
    .option("--data <dir>", "data directory (env POSTERN_DATA)", undefined)
    .option("--json", "print JSON for scripts")
    .option("--url <url>", "act on a server over JMAP instead of the local database (env POSTERN_URL)")
    .option("--api-key <key>", "API key for --url (env POSTERN_API_KEY)")
    .option("--user <login>", "login for --url (env POSTERN_USER)")
    .option("--password <password>", "password for --user (env POSTERN_PASSWORD; asked on a terminal)")
    .option("--no-backup", "upgrade an older database without first copying it next to itself")
    .showHelpAfterError()
    .exitOverride()
    .addHelpText(
      "after",
      "\nEnvironment:\n" +
        Object.entries({ ...ENVIRONMENT, ...CLI_ENVIRONMENT }).map(([k, v]) => `  ${k.padEnd(28)} ${v}`)
          .join("\n") +
        "\n" + EXIT_CODES,
    );

  cmd.command("serve")
    .description("run the server (creates the data directory and an admin on first start)")
    .option("--listen <host:port>", "address to listen on (env POSTERN_LISTEN, default 127.0.0.1:8080)")
    .option("--domain <name>", "domain created on first start (env POSTERN_DOMAIN, default localhost)")
    .option("--log-level <level>", "debug, info, warning or error")
    .option("--trusted-proxy <address>", "trust X-Forwarded-* from this proxy (repeatable)", collect)
    .option(
      "--cors-origin <origin>",
      "let browser scripts from this origin call the APIs (repeatable; * for any)",
      collect,
    )
    .option("--max-body-bytes <n>", "largest request body accepted")
    .option(
      "--processes <n>",
      "serving processes sharing the listeners, or auto: one per core up to 8 (env POSTERN_PROCESSES, default 1)",
    )
    .option(
      "--read-workers <n>",
      "threads per process running Email/query on read-only connections, or auto: the process's share of the cores its serving processes leave, 0 to 4 (env POSTERN_READ_WORKERS, default auto; 0: none)",
    )
    .addOption(new Option("--synchronous <mode>", "SQLite synchronous mode").choices(["NORMAL", "FULL"]))
    .option("--public-url <url>", "external base URL behind a reverse proxy")
    .option("--max-connections <n>", "connections held at once, all clients (default 4096 or what fits)")
    .option("--max-connections-per-address <n>", "connections held at once from one address (default 64)")
    .option("--header-timeout <seconds>", "time a new connection has to send its request head (default 30)")
    .option("--idle-timeout <seconds>", "time a silent connection is kept (default 120)")
    .option("--mail-host <name>", "public host name of the mail service (env POSTERN_MAIL_HOST)")
    .option("--smtp-listen <host:port>", "address of the SMTP (MX) listener (env POSTERN_SMTP_LISTEN)")
    .option(
      "--submission-listen <host:port>",
      "address of the submission listener, STARTTLS, port 587 (env POSTERN_SUBMISSION_LISTEN)",
    )
    .option(
      "--submissions-listen <host:port>",
      "address of the submission listener, implicit TLS, port 465 (env POSTERN_SUBMISSIONS_LISTEN)",
    )
    .option("--tls-cert <file>", "PEM certificate chain for STARTTLS and HTTPS (re-read when it changes)")
    .option("--tls-key <file>", "PEM private key of --tls-cert")
    .option("--https-listen <host:port>", "address of the HTTPS listener (env POSTERN_HTTPS_LISTEN)")
    .option("--acme-directory <url>", "ACME directory to order certificates from, e.g. Let's Encrypt's")
    .option("--acme-email <address>", "contact address registered with the ACME CA")
    .option(
      "--acme-domains <names>",
      "comma-separated names of the certificate (default: the domain, public URL host and mail host)",
    )
    .option("--acme-ca-file <file>", "PEM roots trusted for the ACME directory (a test CA such as Pebble's)")
    .option(
      "--acme-challenge <type>",
      "http-01 (answered on --listen, port 80) or tls-alpn-01 (on --https-listen, port 443); default http-01",
    )
    .option("--smtp-max-message-bytes <n>", "largest message accepted by SMTP (default 10240000)")
    .option("--smtp-max-recipients <n>", "recipients per message (default 100)")
    .option("--smtp-max-connections <n>", "SMTP sessions at once (default 200)")
    .option("--smtp-max-connections-per-address <n>", "SMTP sessions at once from one address (default 20)")
    .option("--smtp-max-errors <n>", "refused SMTP commands before the session is closed (default 20)")
    .option("--smtp-max-commands-before-mail <n>", "SMTP commands before the first MAIL FROM (default 100)")
    .option("--smtp-command-timeout <seconds>", "time to wait for the next SMTP command (default 300)")
    .option("--smtp-data-timeout <seconds>", "time the whole of DATA may take (default 600)")
    .option(
      "--imap-listen <host:port>",
      "address of the IMAP listener, STARTTLS, port 143 (env POSTERN_IMAP_LISTEN)",
    )
    .option(
      "--imaps-listen <host:port>",
      "address of the IMAP listener, implicit TLS, port 993 (env POSTERN_IMAPS_LISTEN)",
    )
    .option("--imap-max-connections <n>", "IMAP sessions at once (default 1000)")
    .option("--imap-max-connections-per-address <n>", "IMAP sessions at once from one address (default 50)")
    .option("--imap-max-errors <n>", "failed IMAP commands before the session is closed (default 20)")
    .option("--imap-login-timeout <seconds>", "time an IMAP session may stay unauthenticated (default 60)")
    .option(
      "--imap-idle-timeout <seconds>",
      "time an authenticated IMAP session may stay silent (default 1800)",
    )
    .option("--dns-server <host[:port]>", "DNS servers to ask, comma-separated (default: the system's)")
    .action(async (opts, c: Command) => {
      const { run } = await import("./src/cli/io.ts");
      const { serveCommand } = await import("./src/cli/serve.ts");
      await run(() => serveCommand(c.optsWithGlobals()), opts);
    });

  cmd.command("init")
    .description(
      "create the data directory, encryption key, domain and admin account; print them (idempotent)",
    )
    .option("--domain <name>", "domain to create (env POSTERN_DOMAIN, default localhost)")
    .option("--new-api-key", "also create a new admin API key when already initialized")
    .action(async (_opts, c: Command) => {
      const { run } = await import("./src/cli/io.ts");
      const { initCommand } = await import("./src/cli/init.ts");
      const all = c.optsWithGlobals();
      await run(() => initCommand(all), all);
    });

  const objectVerb = (name: string, args: string, description: string) =>
    cmd.command(`${name} ${args}`.trim()).description(description);
  const objectAction = (fn: (...args: never[]) => Promise<void>) => async (...args: unknown[]) => {
    const c = args[args.length - 1] as Command;
    const { run } = await import("./src/cli/io.ts");
    const all = c.optsWithGlobals();
    await run(() => (fn as (...a: unknown[]) => Promise<void>)(...args.slice(0, -2), all), all);
  };
  const lazy = <K extends string>(name: K) => async (...args: unknown[]) => {
    const module = await import("./src/cli/objects.ts") as unknown as Record<
      K,
      (...a: unknown[]) => Promise<void>
    >;
    return module[name](...args);
  };

  objectVerb("get", "<type> <id>", "show one object, e.g. get account b")
    .action(objectAction(lazy("getCommand")));
  objectVerb("query", "<type>", "list objects, e.g. query account/user --where name=test")
    .option("--where <field=value>", "filter (repeatable; text=… searches accounts)", collect)
    .option("--fields <a,b>", "columns to show")
    .action(objectAction(lazy("queryCommand")));
  objectVerb(
    "create",
    "<type>",
    "create an object, e.g. create account/user --field name=test --field domainId=b",
  )
    .option("--field <name=value>", "a property; a value starting with { or [ is JSON (repeatable)", collect)
    .action(objectAction(lazy("createCommand")));
  objectVerb("update", "<type> <id>", "change properties of an object")
    .option("--field <name=value>", "a property; a value starting with { or [ is JSON (repeatable)", collect)
    .action(objectAction(lazy("updateCommand")));
  objectVerb("delete", "<type> [id]", "delete objects by id")
    .option("--ids <a,b>", "ids to delete")
    .action(objectAction(lazy("deleteCommand")));
  objectVerb("describe", "[type]", "list object types, or the fields of one")
    .action(objectAction(lazy("describeCommand")));

  cmd.command("action [name]")
    .description("run an administrator's action, e.g. action rotate-signing-key (no name: list them)")
    .action(async (name: string | undefined, _opts, c: Command) => {
      const { run } = await import("./src/cli/io.ts");
      const { actionCommand } = await import("./src/cli/action.ts");
      const all = c.optsWithGlobals();
      await run(() => actionCommand(name, all), all);
    });
  cmd.command("dns <domain> [checked]")
    .description(
      "print the DNS records a domain needs (MX, SPF, DMARC, DKIM, SRV, autoconfig) as zone-file lines; " +
        "`dns check DOMAIN` looks them up and says which are ok, missing or wrong (exit 1 if any is not ok)",
    )
    .option(
      "--mail-host <name>",
      "public host name of the mail service, in local mode (env POSTERN_MAIL_HOST)",
    )
    .option(
      "--dns-server <host[:port]>",
      "with check: DNS servers to ask, comma-separated (default: the system's)",
    )
    .action(async (domain: string, checked: string | undefined, _opts, c: Command) => {
      const { run } = await import("./src/cli/io.ts");
      const { dnsCommand, dnsCheckCommand, dnsUsage } = await import("./src/cli/dns.ts");
      const all = c.optsWithGlobals();
      if (checked === undefined && domain === "check") await run(() => dnsUsage(domain, "DOMAIN"), all);
      else if (checked === undefined) await run(() => dnsCommand(domain, all), all);
      else if (domain === "check") await run(() => dnsCheckCommand(checked, all), all);
      else await run(() => dnsUsage(domain, checked), all);
    });
  cmd.command("dkim-rotate <domain>")
    .description("make new DKIM keys for a domain (they sign from now on; the old records stay published)")
    .action(async (domain: string, _opts, c: Command) => {
      const { run } = await import("./src/cli/io.ts");
      const { dkimRotateCommand } = await import("./src/cli/dkim.ts");
      const all = c.optsWithGlobals();
      await run(() => dkimRotateCommand(domain, all), all);
    });
  const queue = cmd.command("queue").description("the outbound queue: list, show, retry, cancel, delete");
  const queueAction = (name: string) => async (...args: unknown[]) => {
    const c = args[args.length - 1] as Command;
    const { run } = await import("./src/cli/io.ts");
    const module = await import("./src/cli/queue.ts") as unknown as Record<
      string,
      (...a: unknown[]) => Promise<void>
    >;
    const all = c.optsWithGlobals();
    await run(() => module[name](...args.slice(0, -2), all), all);
  };
  queue.command("list")
    .description("list queued messages with their state, age and recipient domains")
    .option("--state <state>", "only this state: deferred, queued, failed, canceled, delivered")
    .option("--domain <name>", "only messages with a recipient in this domain")
    .option("--sender <address>", 'only messages from this envelope sender ("" for bounces)')
    .action(queueAction("queueListCommand"));
  queue.command("show <id>")
    .description("show one queued message and the state of each recipient")
    .action(queueAction("queueShowCommand"));
  queue.command("retry [id]")
    .description("try the deferred recipients of a message (or of all, with --all) now")
    .option("--all", "every queued message")
    .action(queueAction("queueRetryCommand"));
  queue.command("cancel <id>")
    .description("stop delivering a message: its remaining recipients are canceled, without a bounce")
    .action(queueAction("queueCancelCommand"));
  queue.command("delete <id>")
    .description("drop a message from the queue silently (as postsuper -d)")
    .action(queueAction("queueDeleteCommand"));
  cmd.command("apply [file]")
    .description("run a plan: one JSON operation per line, from a file or - for standard input")
    .option("--dry-run", "check every line without writing anything")
    .option("--continue-on-error", "go on after a failed line (exit 1 at the end)")
    .action(async (file: string | undefined, _opts, c: Command) => {
      const { run } = await import("./src/cli/io.ts");
      const { applyCommand } = await import("./src/cli/plan.ts");
      const all = c.optsWithGlobals();
      await run(() => applyCommand(file, all), all);
    });
  cmd.command("snapshot [types...]")
    .description(
      "print the directory as a plan that recreates it: every management type, or the types named " +
        "(mail content is not included; use backup for it); what is left out is said on stderr",
    )
    .action(async (types: string[], _opts, c: Command) => {
      const { run } = await import("./src/cli/io.ts");
      const { snapshotCommand } = await import("./src/cli/snapshot.ts");
      const all = c.optsWithGlobals();
      await run(() => snapshotCommand(types, all), all);
    });

  const db = cmd.command("db").description("database maintenance");
  db.command("check")
    .description("run the integrity check and report dangling references")
    .option("--repair", "delete dangling rows")
    .action(async (_opts, c: Command) => {
      const { run } = await import("./src/cli/io.ts");
      const { dbCheckCommand } = await import("./src/cli/db.ts");
      const all = c.optsWithGlobals();
      await run(() => dbCheckCommand(all), all);
    });
  const backup = (name: string) => async (path: string, _opts: unknown, c: Command) => {
    const { run } = await import("./src/cli/io.ts");
    const module = await import("./src/cli/backup.ts");
    const all = c.optsWithGlobals();
    await run(() => (name === "backup" ? module.backupCommand : module.restoreCommand)(path, all), all);
  };
  cmd.command("backup <out>")
    .description("copy the database (online, while the server runs) and the key into the new directory OUT")
    .action(backup("backup"));
  cmd.command("restore <in>")
    .description("put a backup into the data directory (refused while a Postern process has it open)")
    .option("--force", "replace a data directory that is not empty")
    .action(backup("restore"));
  cmd.command("tui")
    .description("open the interactive admin UI (also: postern with no arguments on a terminal)")
    .option("--dns-server <host[:port]>", "DNS servers the DNS records' check asks (default: the system's)")
    .action((_opts, c: Command) => openTui(c.optsWithGlobals()));
  const cache = cmd.command("cache").description("cache settings and statistics");
  cache.command("stats")
    .description("show cache settings and the invalidation log position")
    .action(async (_opts, c: Command) => {
      const { run } = await import("./src/cli/io.ts");
      const { cacheStatsCommand } = await import("./src/cli/db.ts");
      const all = c.optsWithGlobals();
      await run(() => cacheStatsCommand(all), all);
    });
  return cmd;
}

/** Runs the admin UI, lending it the CLI's connections (local database or server). */
async function openTui(all: Record<string, string | undefined>): Promise<void> {
  const { configFrom, run, UsageError } = await import("./src/cli/io.ts");
  const { tuiCommand } = await import("./tui/mod.ts");
  await run(() =>
    tuiCommand(all, {
      async withLocal(options, body) {
        const [{ withLocalServices }, { localClient }] = await Promise.all([
          import("./src/cli/local.ts"),
          import("./src/cli/client.ts"),
        ]);
        const config = configFrom(options);
        const mail = { mailEndpoints: mailEndpoints(config) };
        return await withLocalServices(config, (services) =>
          body(localClient(services, mail), services, config));
      },
      async withRemote(options, body) {
        const { withClient } = await import("./src/cli/connect.ts");
        return await withClient(options, body);
      },
      usageError: (message) =>
        new UsageError(message),
    }), all);
}

/**
 * Parses the arguments and runs the command with `chosen` streams (the process's by default); resolves
 * to the exit code: 0 done, 2 a usage mistake, else the code the command ended with (see src/cli/io.ts).
 * Tests call it in-process with captured streams; the process below only turns its result into an exit.
 */
export function runCli(args: string[], chosen: CliStreams = PROCESS_STREAMS): Promise<number> {
  return withStreams(chosen, async () => {
    const cmd = program(chosen);
    if (args.length === 0) {
      // On a terminal, plain `postern` opens the admin UI; anywhere else it prints the help.
      if (chosen.stdinIsTerminal && chosen.stdoutIsTerminal) args = ["tui"];
      else {
        cmd.outputHelp();
        return 0;
      }
    }
    try {
      await cmd.parseAsync(args, { from: "user" });
      return 0;
    } catch (error) {
      if (error instanceof ExitRequest) return error.code;
      if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
      throw error;
    }
  });
}

if (import.meta.main) {
  const code = await runCli(Deno.args);
  if (code !== 0) Deno.exit(code);
}
