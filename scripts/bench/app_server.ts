/**
 * Postern's real fetch handler served by `Deno.serve` in its own process, with the per-request cache
 * coherence check (`services.sync()`, run by the handler's `beforeRequest`) left on or replaced by a
 * no-op. The benchmark compares the two to price the check; there is no production flag for this.
 * With `--sync toggle` one process serves both variants, switched by `GET /__bench/sync/on|off`
 * between rounds, so the comparison is free of differences between processes.
 *
 *   deno run -A scripts/bench/app_server.ts --data DIR --sync on|off|toggle [--hash-workers N]
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
if (!["on", "off", "toggle"].includes(values.sync!)) throw new Error("--sync is on, off or toggle");

const config = resolveConfig(
  { data: values.data, listen: "127.0.0.1:0", logLevel: "info" },
  Deno.env.toObject(),
);
await setupLogging(config.logLevel);
const hashWorkers = values["hash-workers"] ? Number(values["hash-workers"]) : undefined;
const { services } = await openData(config, { hashWorkers });
// createApp reads the property at request time (`() => services.sync()`), so replacing it here turns
// the check off for this process only.
let checking = values.sync !== "off";
const realSync = services.sync;
services.sync = () => {
  if (checking) realSync();
};
const app = createApp(config, services);
const handler = (request: Request, info: Deno.ServeHandlerInfo) => {
  if (values.sync === "toggle" && request.url.includes("/__bench/sync/")) {
    checking = request.url.endsWith("/on");
    return Promise.resolve(new Response(checking ? "on" : "off"));
  }
  return app.handler(request, info);
};

const server = Deno.serve({
  hostname: config.hostname,
  port: config.port,
  onListen: ({ port }) => console.log(`listening ${port}`),
}, handler);

Deno.addSignalListener("SIGTERM", () => void server.shutdown());
await server.finished;
await app.close();
