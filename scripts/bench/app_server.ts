/**
 * Postern's real fetch handler served by `Deno.serve` in its own process, with the per-request cache
 * coherence check (`services.sync()`, run by the handler's `beforeRequest`) left on or replaced by a
 * no-op. The benchmark compares the two to price the check; there is no production flag for this.
 *
 *   deno run -A scripts/bench/app_server.ts --data DIR --sync on|off [--hash-workers N]
 *
 * Logging is set up as `postern serve with its default log level (info)` sets it, so "on" is the real server.
 * Prints `listening <port>` on stdout once it listens on a free loopback port.
 */
import { parseArgs } from "node:util";
import { resolveConfig, setupLogging } from "../../src/config/mod.ts";
import { createApp, openData } from "../../src/server.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string" },
    sync: { type: "string", default: "on" },
    "hash-workers": { type: "string" },
  },
});
if (!values.data) throw new Error("app_server.ts needs --data");
if (values.sync !== "on" && values.sync !== "off") throw new Error("--sync is on or off");

const config = resolveConfig(
  { data: values.data, listen: "127.0.0.1:0", logLevel: "info" },
  Deno.env.toObject(),
);
await setupLogging(config.logLevel);
const hashWorkers = values["hash-workers"] ? Number(values["hash-workers"]) : undefined;
const { services } = await openData(config, { hashWorkers });
// createApp reads the property at request time (`() => services.sync()`), so replacing it here turns
// the check off for this process only.
if (values.sync === "off") services.sync = () => {};
const app = createApp(config, services);

const server = Deno.serve({
  hostname: config.hostname,
  port: config.port,
  onListen: ({ port }) => console.log(`listening ${port}`),
}, app.handler);

Deno.addSignalListener("SIGTERM", () => void server.shutdown());
await server.finished;
await app.close();
