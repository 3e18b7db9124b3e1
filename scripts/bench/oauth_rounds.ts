/**
 * The OAuth figures' runs: the refresh_token grant on Postern against node-oidc-provider (figure 6;
 * its servers in oidc_provider_servers.ts, the fresh-token and client_credentials rounds in
 * oauth_grant_rounds.ts),
 * the same JMAP request with a Bearer access token and with Basic auth (figure 7), and the cold
 * access-token check in its own process (figure 8).
 */
import { httpPost } from "./http_client.ts";
import type { OidcProvider } from "./oidc_provider_servers.ts";
import type { ProcessGroup, Server } from "./processes.ts";
import { median, micros } from "./report.ts";
import { basic, type OAuthFixture } from "./setup_data.ts";
import { type RequestSubject, type Settings, throughputRounds } from "./throughput.ts";
import type { TokenVerifyResult } from "./token_verify.ts";

const FORM = "application/x-www-form-urlencoded";

/**
 * The refresh_token rounds: every request presents the client's unrotated refresh token (the first
 * each server minted) with client_secret_basic, on Postern and on each oidc-provider. Every server
 * must first answer 200 and keep the token (no rotation).
 */
export async function refreshRounds(
  settings: Settings,
  group: ProcessGroup,
  context: { tmp: string; postern: Server; fixture: OAuthFixture; providers: OidcProvider[] },
): Promise<RequestSubject[]> {
  const { tmp, postern, fixture } = context;
  const headers = clientHeaders(fixture);
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
  const subjects: RequestSubject[] = [];
  for (const provider of context.providers) {
    subjects.push(
      await subject(provider.key, provider.label, provider.server, "/token", provider.refreshTokens[0]),
    );
  }
  subjects.push(
    await subject("postern", POSTERN_LABEL, postern, "/auth/token", fixture.refreshToken),
  );
  await throughputRounds(settings, group, subjects, {
    title: "POST refresh_token grant throughput (client_secret_basic)",
  });
  return subjects;
}

/** The Postern subject's label in the grant tables. */
export const POSTERN_LABEL = "postern serve (default log level, info: access log)";

/** client_secret_basic (RFC 6749 §2.3.1): both values are base64url, so form-encoding leaves them be. */
export function clientHeaders(fixture: OAuthFixture): Record<string, string> {
  return { authorization: basic(fixture.clientId, fixture.secret), "content-type": FORM };
}

/** A token response to the refresh, checked: 200, an access token, the same refresh token and scope. */
export async function checkRefresh(
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
