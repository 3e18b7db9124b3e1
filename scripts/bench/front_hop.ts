/**
 * What the connection front (src/http/connection_front.ts) costs a request: server CPU per request of
 * the same small handler (scripts/bench/front_server.ts: a token-sized JSON answer to a form POST)
 * through the front and on its internal Deno.serve port, (`--old DIR`) through another checkout's
 * front, and (`--serve-http`) on Deno.serveHttp per connection with no hop, in interleaved rounds of
 * scripts/bench/load.ts. Quick (a minute) where a grant bench takes several: for trying changes to
 * the front itself.
 *
 *   deno run -A scripts/bench/front_hop.ts [--old DIR] [--serve-http] [--rounds 5] [--duration-ms 1500]
 *     [--connections 8]
 */
import { parseArgs } from "node:util";
import { ProcessGroup, repoPath } from "./processes.ts";
import { median } from "./report.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    old: { type: "string" },
    "serve-http": { type: "boolean", default: false },
    rounds: { type: "string", default: "5" },
    "duration-ms": { type: "string", default: "1500" },
    connections: { type: "string", default: "8" },
  },
});

/** One port to load and what its rounds measured. */
interface Subject {
  name: string;
  pid: number;
  url: string;
  rps: number[];
  cpu: number[];
}

const tmp = await Deno.makeTempDir({ prefix: "postern-front-hop-" });
const group = new ProcessGroup();
try {
  const bodyFile = `${tmp}/body`;
  await Deno.writeTextFile(
    bodyFile,
    new URLSearchParams({ grant_type: "refresh_token", refresh_token: "t".repeat(300) }).toString(),
  );
  const start = async (name: string, root: string, engine = "front"): Promise<Subject[]> => {
    const portFile = `${tmp}/${name}.port`;
    const server = await group.startScript(name, "scripts/bench/front_server.ts", [
      ...["--root", root, "--port-file", portFile, "--engine", engine],
    ]);
    const internal = await Deno.readTextFile(portFile);
    const subject = (label: string, url: string) => ({ name: label, pid: server.pid, url, rps: [], cpu: [] });
    return [
      subject(`${name} front`, server.url),
      subject(`${name} internal port`, `http://127.0.0.1:${internal}`),
    ];
  };
  const subjects = [...await start("new", repoPath(""))];
  if (values.old) subjects.push((await start("old", values.old))[0]);
  if (values["serve-http"]) {
    const [subject] = await start("serve-http", repoPath(""), "serve-http");
    subjects.push({ ...subject, name: "Deno.serveHttp, no front" });
  }
  for (let round = 1; round <= Number(values.rounds); round++) {
    // Interleaved, the order reversed every other round, so a change in the machine's load hits all.
    for (const subject of round % 2 ? subjects : [...subjects].reverse()) {
      const result = await group.runJson<{ rps: number; serverCores: number; failures: number }>(
        "scripts/bench/load.ts",
        [
          ...["--url", `${subject.url}/auth/token`, "--method", "POST", "--body-file", bodyFile],
          ...["--connections", values.connections!, "--warmup-ms", "300"],
          ...["--duration-ms", values["duration-ms"]!, "--server-pid", String(subject.pid)],
        ],
      );
      if (result.failures > 0) throw new Error(`${subject.name}: ${result.failures} failed requests`);
      subject.rps.push(result.rps);
      subject.cpu.push(result.serverCores / result.rps * 1e6);
      console.log(
        `round ${round} ${subject.name}: ${result.rps.toFixed(0)} req/s, ${
          subject.cpu.at(-1)!.toFixed(1)
        } µs CPU/request`,
      );
    }
  }
  console.log(`load average ${Deno.loadavg().map((n) => n.toFixed(2)).join(" ")}; medians:`);
  for (const subject of subjects) {
    console.log(
      `  ${subject.name}: ${median(subject.rps).toFixed(0)} req/s, ${
        median(subject.cpu).toFixed(1)
      } µs CPU/request`,
    );
  }
} finally {
  await group.stopAll();
  await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
}
