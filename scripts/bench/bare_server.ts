/**
 * The throughput baseline: a bare `Deno.serve` answering every request with the same JSON bytes and
 * content type as Postern's `GET /api/account` (or, with `--read-body`, `POST /jmap`), and nothing else
 * (no routing, auth, logs or metrics). With `--read-body` it reads each request's body to the end
 * before answering, as Postern does for a JMAP request.
 *
 *   deno run -A scripts/bench/bare_server.ts --body-file body.json [--read-body]
 *
 * Prints `listening <port>` on stdout once it listens on a free loopback port.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "body-file": { type: "string" },
    port: { type: "string", default: "0" },
    "read-body": { type: "boolean", default: false },
  },
});
if (!values["body-file"]) throw new Error("bare_server.ts needs --body-file");
const body = await Deno.readFile(values["body-file"]);

const answer = () => new Response(body, { headers: { "content-type": "application/json" } });
const handler = values["read-body"]
  ? async (request: Request) => {
    await request.arrayBuffer();
    return answer();
  }
  : answer;

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  onListen: ({ port }) => console.log(`listening ${port}`),
}, handler);

Deno.addSignalListener("SIGTERM", () => void server.shutdown());
await server.finished;
