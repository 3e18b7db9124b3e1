/**
 * The IMAP benchmark's setup (scripts/bench/imap_figures.ts): Postern's copy of the corpus, cached
 * beside it; the cost of Postern's SELECT in-process; a certificate both servers present; ports.
 */
import { ADMIN_PASSWORD, DOMAIN, PASSWORD, USER, withServices } from "./email_store.ts";
import { importCorpus } from "./imap_corpus.ts";
import { ImapWire } from "./imap_wire.ts";
import { median, ms } from "./report.ts";
import { schemaKey } from "./schema_key.ts";
import { bootstrapData } from "./setup_data.ts";
import { exists } from "./text_corpus.ts";

/** The benchmark's IMAP login, on both servers. */
export const LOGIN = `${USER}@${DOMAIN}`;
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/**
 * Postern's copy of the corpus in `dataDir`: imported through the store's import in-process, or
 * copied from the data directory an earlier run left beside the corpus (keyed by the corpus and the
 * schema's migrations, so a changed schema imports afresh). Then the select() cost, in-process.
 */
export async function loadPostern(
  dataDir: string,
  options: { corpus: string; count: number; rounds: number },
): Promise<{ select: number; rows: number }> {
  const cached = `${options.corpus}.postern-${await schemaKey()}`;
  const t = performance.now();
  if (await exists(`${cached}/complete`)) {
    await copyDir(cached, dataDir);
    console.log(`Postern's copy taken from ${cached} in ${seconds(t)}`);
  } else {
    await bootstrapData(dataDir, { domain: DOMAIN, adminPassword: ADMIN_PASSWORD });
    await withServices(dataDir, async (services) => {
      const domain = await services.domains.getByName(DOMAIN);
      await services.accounts.create({ type: "User", name: USER, domainId: domain!.id, password: PASSWORD });
      await importCorpus(services, options.corpus, { login: LOGIN, count: options.count });
    });
    const rate = Math.round(options.count / ((performance.now() - t) / 1000));
    console.log(`Postern's copy imported in-process in ${seconds(t)} (${rate} msg/s)`);
    await Deno.remove(`${cached}.partial`, { recursive: true }).catch(() => undefined);
    await copyDir(dataDir, `${cached}.partial`);
    await Deno.writeTextFile(`${cached}.partial/complete`, "");
    await Deno.remove(cached, { recursive: true }).catch(() => undefined);
    await Deno.rename(`${cached}.partial`, cached);
  }
  let cost = { select: NaN, rows: NaN };
  await withServices(dataDir, async (services) => {
    cost = await selectCost(services, options.rounds * 2);
  });
  return cost;
}

async function copyDir(from: string, to: string): Promise<void> {
  const { success, stderr } = await new Deno.Command("cp", { args: ["-a", from, to], stderr: "piped" })
    .output();
  if (!success) throw new Error(`cp -a ${from} ${to}: ${new TextDecoder().decode(stderr)}`);
}

/** Medians (ms) of the mail service's select() of INBOX and of the store's read of its rows alone. */
async function selectCost(
  services: Parameters<Parameters<typeof withServices>[1]>[0],
  repeats: number,
): Promise<{ select: number; rows: number }> {
  const id = (await services.accounts.idByLogin(LOGIN))!;
  const entry = (await services.imapMailboxes.resolve(id, "INBOX"))!;
  const select: number[] = [];
  const rows: number[] = [];
  for (let i = 0; i < repeats; i++) {
    let t = performance.now();
    const selection = await services.imapMailboxes.select(id, "INBOX");
    select.push(performance.now() - t);
    t = performance.now();
    const all = await services.store.imap.messages(entry.mailboxId);
    rows.push(performance.now() - t);
    if (selection.messages.length !== all.length) throw new Error("select() and the rows disagree");
  }
  const result = { select: median(select), rows: median(rows) };
  console.log(
    `Postern in-process: imapMailboxes.select(INBOX) ${ms(result.select)}, ` +
      `store.imap.messages (every row) ${ms(result.rows)}`,
  );
  return result;
}

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

export async function hasOpenssl(): Promise<boolean> {
  try {
    return (await new Deno.Command("openssl", { args: ["version"], stdout: "null" }).output()).success;
  } catch {
    return false;
  }
}

/** A self-signed leaf certificate for 127.0.0.1, readable by Dovecot's processes. */
export async function certificate(dir: string): Promise<{ cert: string; key: string; caCert: string }> {
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const { success, stderr } = await new Deno.Command("openssl", {
    args: [
      ..."req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost".split(
        " ",
      ),
      ...["-keyout", key, "-out", cert, "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
      // A leaf, not a CA: rustls (Deno's TLS client) refuses a CA certificate as a server's.
      ...["-addext", "basicConstraints=critical,CA:FALSE"],
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`openssl: ${new TextDecoder().decode(stderr)}`);
  return { cert, key, caCert: await Deno.readTextFile(cert) };
}

/** A Postern build serving IMAP for a probe (scripts/bench/imap_rtt_probe.ts, imap_select_probe.ts). */
export interface PosternBuild {
  child: Deno.ChildProcess;
  imapsPort: number;
  imapPort: number;
  stop(): Promise<void>;
}

/**
 * Starts `postern serve` of the checkout at `root` on `dataDir`, IMAP over implicit TLS and STARTTLS on
 * free loopback ports with `tls`, and waits for its greeting. `flags` go to deno (--inspect), `env` adds to
 * the server's environment.
 */
export async function startPosternBuild(
  name: string,
  options: {
    root: string;
    dataDir: string;
    tls: { cert: string; key: string; caCert: string };
    flags?: string[];
    env?: Record<string, string>;
  },
): Promise<PosternBuild> {
  const imapsPort = freePort();
  const imapPort = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...[
        "run",
        "-A",
        "--v8-flags=--max-semi-space-size=8",
        ...options.flags ?? [],
        `${options.root}/main.ts`,
      ],
      ...["serve", "--data", options.dataDir, "--listen", "127.0.0.1:0", "--domain", DOMAIN],
      ...["--log-level", "warning"],
    ],
    cwd: options.root,
    env: {
      NO_COLOR: "1",
      POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD,
      POSTERN_IMAPS_LISTEN: `127.0.0.1:${imapsPort}`,
      POSTERN_IMAP_LISTEN: `127.0.0.1:${imapPort}`,
      POSTERN_TLS_CERT: options.tls.cert,
      POSTERN_TLS_KEY: options.tls.key,
      ...options.env,
    },
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const stop = async () => {
    try {
      child.kill();
    } catch {
      // Already gone.
    }
    await child.status;
  };
  for (let i = 0; i < 600; i++) {
    try {
      (await ImapWire.open(imapsPort, options.tls.caCert)).close();
      return { child, imapsPort, imapPort, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  await stop();
  throw new Error(`${name} did not start`);
}
