/**
 * The OAuth figures' runs: the refresh_token grant on Postern against node-oidc-provider (figure 6),
 * the same JMAP request with a Bearer access token and with Basic auth (figure 7), and the cold
 * access-token check in its own process (figure 8).
 */
import { httpPost } from "./http_client.ts";
import { prepareNode } from "./oidc_provider_runtime.ts";
import type { ProcessGroup, Server } from "./processes.ts";
import { median, micros } from "./report.ts";
import { basic, type OAuthFixture } from "./setup_data.ts";
import { type RequestSubject, type Settings, throughputRounds } from "./throughput.ts";
import type { TokenVerifyResult } from "./token_verify.ts";

const FORM = "application/x-www-form-urlencoded";
/** The oidc-provider version of the repository's import map, for the labels. */
const OIDC_PROVIDER_VERSION = /@([^@]+)$/.exec(
  JSON.parse(Deno.readTextFileSync(new URL("../../deno.json", import.meta.url))).imports["oidc-provider"],
)?.[1] ?? "?";

/**
 * Starts node-oidc-provider with the same client (client_id and secret) as Postern's, on Node.js (the
 * baseline) and on Deno (for information), and runs the refresh_token rounds: every request presents
 * the client's unrotated refresh token with client_secret_basic. Every server must first answer 200 and
 * keep the token (no rotation). Without a usable Node.js, the Deno one is the baseline, said so.
 */
export async function refreshRounds(
  settings: Settings,
  group: ProcessGroup,
  context: { tmp: string; postern: Server; fixture: OAuthFixture },
): Promise<RequestSubject[]> {
  const { tmp, postern, fixture } = context;
  const serverArgs = (tokenFile: string) => [
    "--client-id",
    fixture.clientId,
    "--client-secret",
    fixture.secret,
    "--scope",
    fixture.scope,
    "--token-file",
    tokenFile,
  ];
  const started = performance.now();
  const prepared = await prepareNode(group, tmp);
  const node = "failed" in prepared ? undefined : prepared;
  if (node) {
    console.log(
      `oidc-provider on Node.js ${node.version} (${node.executable}), installed in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  } else if ("failed" in prepared) {
    console.log(
      `WARNING: oidc-provider runs on Deno only, not on Node.js as its users run it: ${prepared.failed}`,
    );
  }
  const [onNode, onDeno] = await Promise.all([
    node && group.startCommand(
      "oidc-provider-node",
      node.executable,
      [node.script, ...serverArgs(`${tmp}/oidc-provider-node-token.txt`)],
      node.dir,
    ),
    group.startScript(
      "oidc-provider-deno",
      "scripts/bench/oidc_provider_server.mjs",
      serverArgs(`${tmp}/oidc-provider-deno-token.txt`),
    ),
  ]);
  // client_secret_basic (RFC 6749 §2.3.1): both values are base64url, so form-encoding leaves them be.
  const headers = { authorization: basic(fixture.clientId, fixture.secret), "content-type": FORM };
  const subject = async (
    key: string,
    label: string,
    server: Server,
    path: string,
    refreshToken: string,
  ): Promise<RequestSubject> => {
    const body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }).toString();
    const bodyFile = `${tmp}/refresh-${key}.form`;
    await Deno.writeTextFile(bodyFile, body);
    await checkRefresh(new URL(path, server.url), headers, { body, refreshToken, scope: fixture.scope });
    return { key, label, server, results: [], request: { path, method: "POST", bodyFile, headers } };
  };
  const version = OIDC_PROVIDER_VERSION;
  const token = (runtime: string) => Deno.readTextFile(`${tmp}/oidc-provider-${runtime}-token.txt`);
  const subjects = [
    node && onNode
      ? await subject(
        "oidc",
        `node-oidc-provider ${version} (Node.js ${node.version}${node.lts ? ` LTS ${node.lts}` : ""}` +
          `${node.supported ? "" : ", which it calls unsupported"}, in-memory adapter)`,
        onNode,
        "/token",
        await token("node"),
      )
      : undefined,
    await subject(
      onNode ? "oidc-deno" : "oidc",
      `node-oidc-provider ${version} (under Deno ${Deno.version.deno}, unsupported there)`,
      onDeno,
      "/token",
      await token("deno"),
    ),
    await subject(
      "postern",
      "postern serve (default log level, info: access log)",
      postern,
      "/auth/token",
      fixture.refreshToken,
    ),
  ].filter((s) => s !== undefined);
  await throughputRounds(settings, group, subjects, {
    title: "POST refresh_token grant throughput (client_secret_basic)",
  });
  return subjects;
}

/** A token response to the refresh, checked: 200, an access token, the same refresh token and scope. */
async function checkRefresh(
  url: URL,
  headers: Record<string, string>,
  expected: { body: string; refreshToken: string; scope: string },
): Promise<void> {
  const answer = await httpPost(url, headers, new TextEncoder().encode(expected.body));
  const json = JSON.parse(new TextDecoder().decode(answer));
  if (typeof json.access_token !== "string" || json.token_type !== "Bearer") {
    throw new Error(`${url} answered the refresh without an access token: ${JSON.stringify(json)}`);
  }
  if (json.refresh_token !== expected.refreshToken) {
    throw new Error(
      `${url} rotated the refresh token; the rounds need a stable one: ${JSON.stringify(json)}`,
    );
  }
  if (json.scope !== expected.scope) {
    throw new Error(`${url} answered scope "${json.scope}", not "${expected.scope}"`);
  }
}

/**
 * Core/echo on one Postern server with a cached Basic login and with a Bearer access token (verified
 * on its first use, then served from the same header cache).
 */
export async function bearerRounds(
  settings: Settings,
  group: ProcessGroup,
  context: { postern: Server; fixture: OAuthFixture; basicHeader: string; echoRequestFile: string },
): Promise<RequestSubject[]> {
  const request = (authorization: string) => ({
    path: "/jmap",
    method: "POST",
    bodyFile: context.echoRequestFile,
    headers: { authorization, "content-type": "application/json" },
  });
  const body = await Deno.readFile(context.echoRequestFile);
  for (const authorization of [context.basicHeader, `Bearer ${context.fixture.accessToken}`]) {
    const answer = new TextDecoder().decode(
      await httpPost(new URL("/jmap", context.postern.url), request(authorization).headers, body),
    );
    if (!answer.startsWith('{"methodResponses":[["Core/echo",{"hello":true},"0"]]')) {
      throw new Error(`Core/echo with ${authorization.split(" ")[0]} answered ${answer}`);
    }
  }
  const subjects: RequestSubject[] = [
    {
      key: "basic",
      label: "Basic (cached login)",
      server: context.postern,
      results: [],
      request: request(context.basicHeader),
    },
    {
      key: "bearer",
      label: "Bearer access token (cached)",
      server: context.postern,
      results: [],
      request: request(`Bearer ${context.fixture.accessToken}`),
    },
  ];
  await throughputRounds(settings, group, subjects, {
    title: "POST /jmap Core/echo, Bearer against Basic (one server)",
  });
  return subjects;
}

/** Runs token_verify.ts on the data directory and prints its medians. */
export async function tokenVerifyRun(
  group: ProcessGroup,
  options: { dataDir: string; fixture: OAuthFixture; login: string; tokens: number },
): Promise<TokenVerifyResult> {
  console.log(
    `\nCold access-token checks: ${options.tokens} distinct tokens issued in-process, verifyAccess on each ` +
      "once, in batches (µs per token, median of the batches)",
  );
  const result = await group.runJson<TokenVerifyResult>("scripts/bench/token_verify.ts", [
    "--data",
    options.dataDir,
    "--client-id",
    options.fixture.clientId,
    "--login",
    options.login,
    "--tokens",
    String(options.tokens),
  ]);
  const line = (name: string, values: number[]) =>
    `${name.padEnd(44)} ${micros(median(values)).padStart(9)}   batches ${
      values.map((v) => v.toFixed(1)).join(" ")
    }`;
  console.log(line("verifyAccess", result.verifyAccess));
  console.log(line("  openToken (parse, BLAKE3, AES-GCM-SIV)", result.openToken));
  console.log(line("    BLAKE3 key + nonce derivation", result.blake3));
  console.log(line("    AES-256-GCM-SIV open (key setup included)", result.aesOpen));
  console.log(line("  database reads (credential secret, grant)", result.databaseReads));
  console.log(line("authenticator, cold Bearer header", result.authenticator));
  return result;
}
