/**
 * Where a token grant's server time goes: one `postern serve` under `--inspect`, the load of figure 6b
 * (a fresh refresh token per request) or 6c (client_credentials) from scripts/bench/load.ts, and a CPU
 * profile of the server over one run, summarized (self time by source and by function) and written to
 * /tmp/oauth-probe-GRANT.cpuprofile. Postern alone: this finds the cost, the bench measures the ratio.
 *
 *   deno run -A scripts/bench/oauth_probe.ts [--grant refresh_fresh|client_credentials]
 *     [--tokens 6000] [--duration-ms 3000] [--connections 16] [--top 40]
 */
import { parseArgs } from "node:util";
import { CpuProfiler, summarize } from "./cpu_profile.ts";
import { clientHeaders } from "./oauth_rounds.ts";
import { ProcessGroup } from "./processes.ts";
import { bootstrapData, createOAuthFixture } from "./setup_data.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    grant: { type: "string", default: "refresh_fresh" },
    tokens: { type: "string", default: "6000" },
    "duration-ms": { type: "string", default: "3000" },
    connections: { type: "string", default: "16" },
    top: { type: "string", default: "40" },
  },
});
const grant = values.grant!;
if (grant !== "refresh_fresh" && grant !== "client_credentials") {
  throw new Error("--grant is refresh_fresh or client_credentials");
}

const tmp = await Deno.makeTempDir({ prefix: "postern-oauth-probe-" });
const group = new ProcessGroup();
try {
  const dataDir = `${tmp}/data`;
  await bootstrapData(dataDir, { domain: "example.org", adminPassword: "probe admin password, long enough" });
  const fixture = await createOAuthFixture(dataDir, {
    clientId: "probe-client",
    login: "admin@example.org",
    scopes: ["offline_access", "urn:ietf:params:jmap:mail"],
    freshTokens: grant === "refresh_fresh" ? Number(values.tokens) : 0,
  });
  const inspect = 9229 + Math.floor(Math.random() * 500);
  const postern = await group.startPostern("postern", {
    dataDir,
    logLevel: "info",
    logPath: `${tmp}/postern.log`,
    denoFlags: [`--inspect=127.0.0.1:${inspect}`],
  });
  const bodies = `${tmp}/bodies`;
  if (grant === "refresh_fresh") {
    const form = (token: string) =>
      new URLSearchParams({ grant_type: "refresh_token", refresh_token: token }).toString();
    await Deno.writeTextFile(bodies, fixture.freshTokens.map(form).join("\n") + "\n");
  } else {
    await Deno.writeTextFile(
      bodies,
      new URLSearchParams({ grant_type: "client_credentials", scope: "urn:ietf:params:jmap:mail" })
        .toString(),
    );
  }
  const headers = Object.entries(clientHeaders(fixture)).flatMap(([name, value]) => [
    "--header",
    `${name}: ${value}`,
  ]);
  const profiler = await CpuProfiler.start(inspect);
  const result = await group.runJson<Record<string, unknown>>("scripts/bench/load.ts", [
    "--url",
    `${postern.url}/auth/token`,
    "--method",
    "POST",
    ...headers,
    grant === "refresh_fresh" ? "--body-list" : "--body-file",
    bodies,
    "--connections",
    values.connections!,
    "--warmup-ms",
    "200",
    "--duration-ms",
    values["duration-ms"]!,
    "--server-pid",
    String(postern.pid),
  ]);
  const profile = await profiler.stop();
  await Deno.writeTextFile(`/tmp/oauth-probe-${grant}.cpuprofile`, JSON.stringify(profile));
  console.log(JSON.stringify(result));
  console.log(summarize(profile, Number(values.top)));
} finally {
  await group.stopAll();
  await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
}
