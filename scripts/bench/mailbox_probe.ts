/**
 * JMAP latency probe for the mailbox figure, run as its own process: one keep-alive connection sends
 * POST /jmap one after another, each either a `Mailbox/get` with `ids: null` of the user's own mail
 * account or a `Core/echo` (the baseline: a trivial JMAP round trip on the same connection). After a
 * warm-up of both, the two kinds alternate in blocks, the order swapped each block, so drifts on the
 * machine touch both alike. Every Mailbox/get must list exactly `--expect` mailboxes and every echo
 * its echo: anything else is an error (exit code 1), not a figure.
 *
 *   deno run -A scripts/bench/mailbox_probe.ts --url http://127.0.0.1:8080 \
 *     --authorization "Bearer …" --expect 200 --requests 400 --warmup 100
 *
 * Prints one JSON line: the latencies (ms) of each kind and the size of a Mailbox/get response.
 */
import { parseArgs } from "node:util";
import { httpGet, httpRequest, RawConnection } from "./http_client.ts";

/** What one probe run saw. */
export interface MailboxProbeResult {
  accountId: string;
  /** Bytes of one Mailbox/get response body. */
  bytes: number;
  /** Latencies (ms) of the measured Mailbox/get requests, in order. */
  get: number[];
  /** Latencies (ms) of the measured Core/echo requests, in order. */
  echo: number[];
}

interface ProbeOptions {
  base: URL;
  authorization: string;
  expect: number;
  requests: number;
  warmup: number;
  block: number;
}

const CORE = "urn:ietf:params:jmap:core";
const MAIL = "urn:ietf:params:jmap:mail";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Runs the probe; throws on the first response that is not what was asked for. */
export async function runMailboxProbe(options: ProbeOptions): Promise<MailboxProbeResult> {
  const headers = { authorization: options.authorization };
  const session = JSON.parse(decoder.decode(await httpGet(new URL("/jmap/session", options.base), headers)));
  const accountId = session.primaryAccounts?.[MAIL];
  if (typeof accountId !== "string") {
    throw new Error(`The session names no primary account for ${MAIL}: ${JSON.stringify(session)}`);
  }
  const url = new URL("/jmap", options.base);
  const post = (body: unknown) =>
    httpRequest(
      "POST",
      url,
      { ...headers, "content-type": "application/json" },
      encoder.encode(JSON.stringify(body)),
    );
  const getRequest = post({
    using: [CORE, MAIL],
    methodCalls: [["Mailbox/get", { accountId, ids: null }, "m"]],
  });
  const echoRequest = post({ using: [CORE], methodCalls: [["Core/echo", { hello: true }, "0"]] });
  const connection = await RawConnection.open(url);
  try {
    const call = async (request: Uint8Array) => {
      const started = performance.now();
      const answer = await connection.send(request);
      const ms = performance.now() - started;
      if (answer.status !== 200) {
        throw new Error(`POST /jmap answered ${answer.status}: ${decoder.decode(answer.body)}`);
      }
      return { ms, body: answer.body };
    };
    // A response as long as a checked one is the same list (only the state strings could differ,
    // and they are fixed-length): full checks for the first of each and any whose length changes.
    const checked = { get: -1, echo: -1 };
    const get = async () => {
      const { ms, body } = await call(getRequest);
      if (body.length !== checked.get) checked.get = checkList(body, options.expect);
      return ms;
    };
    const echo = async () => {
      const { ms, body } = await call(echoRequest);
      if (body.length !== checked.echo) checked.echo = checkEcho(body);
      return ms;
    };
    for (let i = 0; i < options.warmup; i++) {
      await echo();
      await get();
    }
    const out = { get: [] as number[], echo: [] as number[] };
    for (let block = 0; out.get.length < options.requests; block++) {
      const n = Math.min(options.block, options.requests - out.get.length);
      const steps = [
        async () => {
          for (let i = 0; i < n; i++) out.echo.push(await echo());
        },
        async () => {
          for (let i = 0; i < n; i++) out.get.push(await get());
        },
      ];
      if (block % 2) steps.reverse();
      for (const step of steps) await step();
    }
    return { accountId, bytes: checked.get, ...out };
  } finally {
    connection.close();
  }
}

type Invocation = [string, Record<string, unknown>, string];

function responses(body: Uint8Array): Invocation[] {
  const parsed = JSON.parse(decoder.decode(body));
  if (!Array.isArray(parsed?.methodResponses)) {
    throw new Error(`Not a JMAP response: ${decoder.decode(body).slice(0, 500)}`);
  }
  return parsed.methodResponses;
}

/** The echo must come back; returns the body's length. */
function checkEcho(body: Uint8Array): number {
  const [first] = responses(body);
  if (first?.[0] !== "Core/echo" || first[1]?.hello !== true) {
    throw new Error(`Core/echo answered ${decoder.decode(body).slice(0, 500)}`);
  }
  return body.length;
}

/** Mailbox/get must list `expect` distinct mailboxes and nothing else; returns the body's length. */
function checkList(body: Uint8Array, expect: number): number {
  const list = responses(body);
  const fail = (why: string) => {
    throw new Error(`Mailbox/get: ${why}: ${decoder.decode(body).slice(0, 500)}`);
  };
  if (list.length !== 1 || list[0][0] !== "Mailbox/get") fail("expected one Mailbox/get response");
  const mailboxes = list[0][1].list as { id: string; name: string }[];
  if (!Array.isArray(mailboxes) || new Set(mailboxes.map((m) => m.id)).size !== expect) {
    fail(`${mailboxes?.length} mailboxes instead of ${expect}`);
  }
  return body.length;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string" },
      authorization: { type: "string" },
      expect: { type: "string" },
      requests: { type: "string", default: "400" },
      warmup: { type: "string", default: "100" },
      block: { type: "string", default: "25" },
    },
  });
  if (!values.url || !values.authorization || !values.expect) {
    throw new Error("mailbox_probe.ts needs --url, --authorization and --expect");
  }
  const result = await runMailboxProbe({
    base: new URL(values.url),
    authorization: values.authorization,
    expect: Number(values.expect),
    requests: Number(values.requests),
    warmup: Number(values.warmup),
    block: Number(values.block),
  });
  console.log(JSON.stringify(result));
}
