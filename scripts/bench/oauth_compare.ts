/**
 * A token grant's server CPU per request on this checkout against another (`--old DIR`, e.g. a
 * worktree of main), and what the connection front's loopback hop (src/http/connection_front.ts)
 * costs: the client_credentials load (or a fresh refresh token per request) from scripts/bench/load.ts,
 * in interleaved rounds, to each build's public port and (--hop) to this build's internal Deno.serve port.
 * Prints req/s and server CPU per request of each round and their medians.
 *
 *   deno run -A scripts/bench/oauth_compare.ts [--grant client_credentials|refresh_fresh] [--old DIR]
 *     [--rounds 4] [--duration-ms 1500] [--tokens 30000] [--hop]
 */
import { parseArgs } from "node:util";
import { clientHeaders } from "./oauth_rounds.ts";
import { ProcessGroup } from "./processes.ts";
import { median } from "./report.ts";
import { bootstrapData, createOAuthFixture, type OAuthFixture } from "./setup_data.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    grant: { type: "string", default: "client_credentials" },
    old: { type: "string" },
    rounds: { type: "string", default: "4" },
    "duration-ms": { type: "string", default: "1500" },
    tokens: { type: "string", default: "30000" },
    // Also load this build's internal port (the hop's cost); it shares the build's token list.
    hop: { type: "boolean", default: false },
  },
});
const fresh = values.grant === "refresh_fresh";
const tmp = await Deno.makeTempDir({ prefix: "postern-oauth-compare-" });
const group = new ProcessGroup();

/** One server to load: its URL, pid, request headers and bodies, and what its rounds measured. */
interface Subject {
  name: string;
  url: string;
  pid: number;
  headers: string[];
  bodies: string;
  start: number;
  rps: number[];
  cpu: number[];
  /** The main thread's CPU per request (the event loop, which sets the pace; no worker threads). */
  main: number[];
}

/** The internal Deno.serve port of a `postern serve` process (the one it listens on besides `publicPort`). */
async function internalPort(pid: number, publicPort: string): Promise<string> {
  const ss = new TextDecoder().decode(
    (await new Deno.Command("ss", { args: ["-ltnpH"], stdout: "piped" }).output()).stdout,
  );
  const port = ss.split("\n").filter((l) => l.includes(`pid=${pid},`))
    .map((l) => l.split(/\s+/)[3].split(":").pop()).find((p) => p !== publicPort);
  if (!port) throw new Error(`No internal port of ${pid}:\n${ss}`);
  return port;
}

const FIXTURE = {
  clientId: "probe-client",
  login: "admin@example.org",
  scopes: ["offline_access", "urn:ietf:params:jmap:mail"],
  freshTokens: fresh ? Number(values.tokens) : 0,
};
const ADMIN = { domain: "example.org", adminPassword: "probe admin password, long enough" };

/**
 * The data and OAuth fixture of another checkout, made by its own code (setup_data.ts run there): its
 * tokens are in the format that build reads, which need not be this one's.
 */
async function fixtureOf(root: string, dataDir: string): Promise<OAuthFixture> {
  const code = `import { bootstrapData, createOAuthFixture } from "./scripts/bench/setup_data.ts";
    const [dataDir, admin, options] = JSON.parse(Deno.args[0]);
    await bootstrapData(dataDir, admin);
    const fixture = await createOAuthFixture(dataDir, options);
    console.log("FIXTURE " + JSON.stringify(fixture));`;
  const file = `${tmp}/fixture-${crypto.randomUUID()}.ts`;
  await Deno.writeTextFile(file, code.replace("./scripts", `${root.replace(/\/$/, "")}/scripts`));
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--config=${root.replace(/\/$/, "")}/deno.json`,
      file,
      JSON.stringify([dataDir, ADMIN, FIXTURE]),
    ],
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const line = new TextDecoder().decode(out.stdout).split("\n").find((l) => l.startsWith("FIXTURE "));
  if (!out.success || !line) throw new Error(`Cannot make the fixture of ${root}`);
  return JSON.parse(line.slice("FIXTURE ".length));
}

/** A data directory with the grant's fixture, a server of `root` on it, and its subjects. */
async function server(name: string, root: string | undefined, direct: boolean): Promise<Subject[]> {
  const dataDir = `${tmp}/${name}`;
  let fixture: OAuthFixture;
  if (root) fixture = await fixtureOf(root, dataDir);
  else {
    await bootstrapData(dataDir, ADMIN);
    fixture = await createOAuthFixture(dataDir, FIXTURE);
  }
  const postern = await group.startPostern(name, {
    dataDir,
    logLevel: "info",
    logPath: `${tmp}/${name}.log`,
    root,
  });
  const headers = Object.entries(clientHeaders(fixture)).flatMap(([n, v]) => ["--header", `${n}: ${v}`]);
  const bodies = `${tmp}/${name}.bodies`;
  const form = (t: string) =>
    new URLSearchParams({ grant_type: "refresh_token", refresh_token: t }).toString();
  const cc = new URLSearchParams({ grant_type: "client_credentials", scope: "urn:ietf:params:jmap:mail" });
  await Deno.writeTextFile(bodies, fresh ? fixture.freshTokens.map(form).join("\n") + "\n" : cc.toString());
  const subject = (label: string, url: string): Subject => ({
    name: label,
    url,
    pid: postern.pid,
    headers,
    bodies,
    start: 0,
    rps: [],
    cpu: [],
    main: [],
  });
  const subjects = [subject(name, postern.url)];
  if (direct) {
    const port = await internalPort(postern.pid, new URL(postern.url).port);
    subjects.push(subject(`${name} (internal port, no hop)`, `http://127.0.0.1:${port}`));
  }
  return subjects;
}

try {
  const subjects = [
    ...(await server("new", undefined, values.hop!)),
    ...(values.old ? await server("old", values.old, false) : []),
  ];
  // Both ports of one server share its token list: each takes up where the last round left off.
  const sent = new Map<string, number>();
  for (let round = 0; round < Number(values.rounds); round++) {
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]);
    for (const subject of order) {
      const start = sent.get(subject.bodies) ?? 0;
      const r = await group.runJson<
        {
          rps: number;
          serverCores: number;
          serverMainCores: number;
          bodiesSent?: number;
          bodiesWrapped?: boolean;
          failures: number;
        }
      >(
        "scripts/bench/load.ts",
        [
          "--url",
          `${subject.url}/auth/token`,
          "--method",
          "POST",
          ...subject.headers,
          fresh ? "--body-list" : "--body-file",
          subject.bodies,
          ...(fresh ? ["--body-start", String(start)] : []),
          "--connections",
          "16",
          "--warmup-ms",
          "300",
          "--duration-ms",
          values["duration-ms"]!,
          "--server-pid",
          String(subject.pid),
        ],
      );
      if (r.failures) throw new Error(`${subject.name}: ${r.failures} failures`);
      if (r.bodiesWrapped) throw new Error(`${subject.name}: the token list ran out (use more --tokens)`);
      sent.set(subject.bodies, start + (r.bodiesSent ?? 0));
      const cpu = r.serverCores / r.rps * 1e6;
      subject.rps.push(r.rps);
      subject.cpu.push(cpu);
      subject.main.push(r.serverMainCores / r.rps * 1e6);
      console.log(
        `round ${round + 1} ${subject.name}: ${r.rps.toFixed(0)} req/s, ${cpu.toFixed(1)} µs CPU/request, ` +
          `main thread ${(r.serverMainCores / r.rps * 1e6).toFixed(1)} µs`,
      );
    }
  }
  for (const subject of subjects) {
    console.log(
      `${subject.name.padEnd(36)} median ${median(subject.rps).toFixed(0).padStart(6)} req/s  ` +
        `${median(subject.cpu).toFixed(1).padStart(7)} µs CPU/request  main thread ` +
        `${median(subject.main).toFixed(1).padStart(7)} µs`,
    );
  }
  // Rounds are interleaved, so the ratio within each round is steadier than the ratio of the medians.
  const base = subjects.at(-1)!;
  for (const subject of subjects.slice(0, -1)) {
    for (const which of ["cpu", "main"] as const) {
      const ratios = subject[which].map((cpu, i) => cpu / base[which][i]);
      const name = which === "cpu" ? "CPU" : "main-thread CPU";
      console.log(
        `${subject.name} / ${base.name}: ${name} per request ×${median(ratios).toFixed(3)} ` +
          `(median of the rounds' ratios: ${ratios.map((r) => r.toFixed(2)).join(" ")})`,
      );
    }
  }
  console.log(`load average: ${Deno.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
} finally {
  await group.stopAll();
  await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
}
