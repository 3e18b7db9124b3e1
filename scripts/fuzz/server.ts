/**
 * The fuzz harness's own server: `postern init` and `postern serve` on a fresh temporary data
 * directory and a free loopback port, the principals and OAuth clients the surfaces use (made over
 * HTTP like any script would), and `postern db check` on the directory once the server has stopped.
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** The domain every fuzz server is initialized with. */
export const DOMAIN = "example.org";
const ADMIN_PASSWORD = "admin password for the fuzz harness";
/** The plain user's password (long enough for the default policy). */
export const USER_PASSWORD = "plain user password for the fuzz harness";
const STARTUP_MS = 60_000;
const STOP_MS = 30_000;

/** One principal the fuzz requests act as. */
export interface Actor {
  label: "admin" | "user";
  accountId: string;
  /** `Authorization` header values: Bearer with an API key, and Basic with the password. */
  bearer: string;
  basic: string;
}

/** A running fuzz server and what was set up on it. */
export interface FuzzServer {
  url: string;
  dataDir: string;
  admin: Actor;
  user: Actor;
  domainId: string;
  capabilities: string[];
  /** The user's Inbox and another of its mailboxes. */
  mailboxIds: string[];
  oauth: { confidentialId: string; secret: string; publicId: string };
  /** The objects the run needs, by data type: fuzzed updates and destroys leave them alone. */
  protectedIds: Map<string, Set<string>>;
  /** True while the process runs. */
  running(): boolean;
  /** The last `chars` characters the server wrote on stderr. */
  log(chars?: number): string;
  /** Stops with SIGTERM (SIGKILL after a bound); returns whether it exited within the bound. */
  stop(): Promise<boolean>;
}

/** Initializes a data directory, starts the server and creates the fuzz principals. */
export async function startFuzzServer(options: { keepData?: boolean } = {}): Promise<FuzzServer> {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-fuzz-" });
  const init = await run(["init", "--json", "--data", dataDir, "--domain", DOMAIN]);
  if (init.code !== 0) throw new Error(`postern init failed: ${init.stderr}`);
  const initialized = JSON.parse(init.stdout);
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "serve",
      "--data",
      dataDir,
      "--listen",
      `127.0.0.1:${port}`,
      "--log-level",
      "warning",
    ],
    env: { NO_COLOR: "1", POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD, POSTERN_PROCESSES: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + STARTUP_MS;
  while (!seen.includes("listening on")) {
    if (Date.now() > deadline) throw new Error(`The server did not start: ${seen}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`The server exited at start: ${seen}`);
    seen += value;
  }
  const drain = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      seen = (seen + r.value).slice(-200_000);
    }
  })();
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const inTime = await Promise.race([
      status.then(() => true),
      new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), STOP_MS)),
    ]);
    clearTimeout(timer);
    if (!inTime) {
      child.kill("SIGKILL");
      await status;
    }
    await drain.catch(() => undefined);
    return inTime;
  };
  try {
    const setup = await setUp(url, initialized);
    return {
      url,
      dataDir,
      ...setup,
      running: () => !exited,
      log: (chars = 4000) => seen.slice(-chars),
      stop,
    };
  } catch (error) {
    await stop();
    if (!options.keepData) await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
    throw new Error(`Fuzz setup failed: ${(error as Error).message}\n${seen.slice(-4000)}`);
  }
}

/** `postern db check --json` on the stopped server's data: the problems it reports, none when clean. */
export async function checkDatabase(dataDir: string): Promise<string[]> {
  const result = await run(["db", "check", "--json", "--data", dataDir]);
  let report: { ok?: boolean; integrity?: string[]; dangling?: { detail: string }[] } = {};
  try {
    report = JSON.parse(result.stdout);
  } catch { /* reported below */ }
  const problems = [
    ...(report.integrity ?? []),
    ...(report.dangling ?? []).map((d) => `dangling: ${d.detail}`),
  ];
  if (result.code !== 0 || report.ok !== true) {
    if (problems.length === 0) {
      problems.push(`db check exited ${result.code}: ${result.stdout}${result.stderr}`);
    }
  }
  return problems;
}

type Setup = Omit<FuzzServer, "url" | "dataDir" | "running" | "log" | "stop">;

async function setUp(
  url: string,
  initialized: { apiKey: string; domain: { id: string }; admin: { id: string; name: string } },
): Promise<Setup> {
  const adminBearer = `Bearer ${initialized.apiKey}`;
  const session = await getJson(url, "/jmap/session", adminBearer);
  const capabilities = Object.keys(session.capabilities ?? {});
  const created = await jmap(url, adminBearer, capabilities, [
    ["x:Account/set", {
      accountId: initialized.admin.id,
      create: {
        user: {
          "@type": "User",
          name: "fuzzuser",
          domainId: initialized.domain.id,
          credentials: [{ "@type": "Password", secret: USER_PASSWORD }],
        },
      },
    }, "0"],
    ["x:OAuthClient/set", {
      accountId: initialized.admin.id,
      create: {
        confidential: {
          "@type": "Confidential",
          name: "Fuzz confidential client",
          redirectUris: ["http://127.0.0.1/callback"],
          grantTypes: [
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
            "client_credentials",
          ],
          scopes: ["openid", "profile", "email", "offline_access", "urn:ietf:params:jmap:mail"],
        },
        public: {
          "@type": "Public",
          name: "Fuzz public client",
          redirectUris: ["http://127.0.0.1/callback"],
          grantTypes: ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
          scopes: ["openid", "offline_access", "urn:ietf:params:jmap:mail"],
        },
      },
    }, "1"],
  ]);
  const userId = created[0][1]?.created?.user?.id;
  const clients = created[1][1]?.created;
  if (!userId || !clients?.confidential || !clients?.public) {
    throw new Error(`Could not create the fuzz user and clients: ${JSON.stringify(created)}`);
  }
  const userBasic = basic(`fuzzuser@${DOMAIN}`, USER_PASSWORD);
  const keyed = await jmap(url, userBasic, capabilities, [
    ["x:ApiKey/set", { accountId: userId, create: { key: { description: "fuzz harness" } } }, "0"],
    ["Mailbox/get", { accountId: userId, ids: null, properties: ["id", "role"] }, "1"],
  ]);
  const userKey = keyed[0][1]?.created?.key?.secret;
  const keys = await jmap(url, adminBearer, capabilities, [
    ["x:ApiKey/get", { accountId: initialized.admin.id, ids: null }, "0"],
  ]);
  const keyIds = ((keys[0][1]?.list ?? []) as { id: string }[]).map((k) => k.id);
  const mailboxes = (keyed[1][1]?.list ?? []) as { id: string; role: string | null }[];
  const inbox = mailboxes.find((m) => m.role === "inbox");
  if (!userKey || !inbox) throw new Error(`Could not set up the fuzz user: ${JSON.stringify(keyed)}`);
  const other = mailboxes.find((m) => m !== inbox) ?? inbox;
  const protectedIds = new Map<string, Set<string>>([
    ["x:Account", new Set([initialized.admin.id, userId])],
    ["x:Domain", new Set([initialized.domain.id])],
    ["x:ApiKey", new Set([...keyIds, keyed[0][1]?.created?.key?.id])],
    ["x:OAuthClient", new Set([clients.confidential.id, clients.public.id])],
    ["Mailbox", new Set([inbox.id, other.id])],
  ]);
  return {
    admin: {
      label: "admin",
      accountId: initialized.admin.id,
      bearer: adminBearer,
      basic: basic(`${initialized.admin.name}@${DOMAIN}`, ADMIN_PASSWORD),
    },
    user: { label: "user", accountId: userId, bearer: `Bearer ${userKey}`, basic: userBasic },
    domainId: initialized.domain.id,
    capabilities,
    mailboxIds: [inbox.id, other.id],
    oauth: {
      confidentialId: clients.confidential.clientId,
      secret: clients.confidential.secret,
      publicId: clients.public.clientId,
    },
    protectedIds,
  };
}

// deno-lint-ignore no-explicit-any
type Json = any;

async function getJson(url: string, path: string, authorization: string): Promise<Json> {
  const response = await fetch(url + path, { headers: { authorization } });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return await response.json();
}

async function jmap(url: string, authorization: string, using: string[], calls: unknown[]): Promise<Json[]> {
  const response = await fetch(url + "/jmap", {
    method: "POST",
    headers: { authorization, "content-type": "application/json" },
    body: JSON.stringify({ using, methodCalls: calls }),
  });
  const body = await response.json();
  if (!response.ok || !Array.isArray(body.methodResponses)) {
    throw new Error(`POST /jmap: ${response.status} ${JSON.stringify(body)}`);
  }
  return body.methodResponses;
}

/** An Authorization header for Basic credentials (UTF-8). */
export function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return "Basic " + btoa(String.fromCharCode(...bytes));
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
