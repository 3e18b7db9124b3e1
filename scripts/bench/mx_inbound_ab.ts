/**
 * Two builds of the MX compared under the same load: this checkout's Postern and another checkout's
 * (`--old DIR`) run side by side, and each round loads both AT THE SAME TIME, each with its own
 * smtp-source (10 KB messages, `--sessions` each), so a machine whose load swings from round to round
 * (other benchmarks) weighs on both alike. Prints each round's CPU per stored message (all threads /
 * main thread) of both and their ratio, then the medians of those ratios. Sequential rounds
 * (mx_inbound.ts --old) saw the same build's CPU per message vary 1.5–3.2 ms under such load.
 *
 *   deno run -A scripts/bench/mx_inbound_ab.ts --old DIR [--rounds 6] [--messages 3000] [--sessions 8]
 *
 * Needs root and Debian's postfix (smtp-source) and dnsmasq, as mx_inbound.ts.
 */
import { parseArgs } from "node:util";
import {
  DOMAIN,
  freePort,
  prepareData,
  serverCpu,
  smtpSource,
  startSenderDns,
} from "./mx_inbound_helpers.ts";
import { ProcessGroup } from "./processes.ts";
import { median } from "./report.ts";

const ADMIN_PASSWORD = "bench admin password that is long enough";

/** One build under test and what its rounds measured (ms of CPU per message). */
interface Build {
  label: string;
  pid: number;
  port: number;
  total: number[];
  main: number[];
  rates: number[];
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    old: { type: "string" },
    rounds: { type: "string", default: "6" },
    messages: { type: "string", default: "3000" },
    sessions: { type: "string", default: "8" },
  },
});
if (!values.old) throw new Error("--old DIR: the checkout to compare with");
const sessions = Number(values.sessions);
const messages = Number(values.messages);
const group = new ProcessGroup();
const tmp = await Deno.makeTempDir({ prefix: "postern-bench-mx-ab-" });
// The sender's SPF and DMARC records, as mx_inbound.ts serves them.
const dns = await startSenderDns();
if (!dns) throw new Error("needs dnsmasq");
const builds: Build[] = [];
try {
  for (const [i, root] of [undefined, values.old].entries()) {
    const dataDir = `${tmp}/data-${i}`;
    // Made by the build's own code: an older build refuses a database of a newer schema.
    await prepareData(dataDir, { root, domain: DOMAIN, adminPassword: ADMIN_PASSWORD });
    const port = freePort();
    const server = await group.startPostern(`postern-mx-${i}`, {
      dataDir,
      logLevel: "info",
      logPath: `${tmp}/mx-${i}.log`,
      root,
      processes: 1,
      env: {
        POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD,
        POSTERN_SMTP_LISTEN: `127.0.0.1:${port}`,
        POSTERN_SMTP_MAX_CONNECTIONS_PER_ADDRESS: String(sessions + 4),
        POSTERN_DNS_SERVER: dns.server,
      },
    });
    builds.push({ label: i ? "old" : "new", pid: server.pid, port, total: [], main: [], rates: [] });
  }
  // A warm-up of each, not counted (JIT, caches).
  await Promise.all(builds.map((b) => smtpSource(group, b.port, 1500, sessions)));
  for (let round = 0; round < Number(values.rounds); round++) {
    await new Deno.Command("sync").output();
    const before = builds.map((b) => serverCpu(b.pid));
    const started = performance.now();
    await Promise.all(builds.map(async (b, i) => {
      await smtpSource(group, b.port, messages, sessions);
      const after = serverCpu(b.pid);
      b.total.push(1000 * (after.total - before[i].total) / messages);
      b.main.push(1000 * (after.main - before[i].main) / messages);
      b.rates.push(messages / ((performance.now() - started) / 1000));
    }));
    const [a, b] = builds;
    console.log(
      `round ${round + 1} (load ${Deno.loadavg()[0].toFixed(1)}): ` +
        builds.map((x) => `${x.label} ${x.total.at(-1)!.toFixed(2)}/${x.main.at(-1)!.toFixed(2)} ms`).join(
          ", ",
        ) +
        `; new/old total ${(a.total.at(-1)! / b.total.at(-1)!).toFixed(2)}, main ${
          (a.main.at(-1)! / b.main.at(-1)!).toFixed(2)
        }`,
    );
  }
  const ratios = (key: "total" | "main") => builds[0][key].map((v, i) => v / builds[1][key][i]);
  for (const b of builds) {
    console.log(
      `${b.label}: medians ${median(b.total).toFixed(2)} ms CPU per message, ${
        median(b.main).toFixed(2)
      } ms ` +
        `on the main thread, ${median(b.rates).toFixed(0)} msg/s`,
    );
  }
  console.log(
    `median of the rounds' ratios new/old: total ${median(ratios("total")).toFixed(3)}, main thread ${
      median(ratios("main")).toFixed(3)
    }`,
  );
} finally {
  await group.stopAll();
  await dns.stop();
  await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
}
