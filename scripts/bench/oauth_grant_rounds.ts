/**
 * The token-endpoint rounds as clients use it, on Postern against node-oidc-provider (its baseline,
 * on Node.js when available: oidc_provider_servers.ts), with the same confidential client and
 * client_secret_basic on both:
 *
 * - fresh refresh tokens: every request presents a refresh token never presented before (each of its
 *   own family, minted ahead on each server, sent from a body list: scripts/bench/load.ts), so neither
 *   side can serve it from what an earlier request opened;
 * - client_credentials: every request asks for a new access token with the JMAP mail scope.
 */
import { httpPost } from "./http_client.ts";
import { checkRefresh, clientHeaders, POSTERN_LABEL } from "./oauth_rounds.ts";
import type { OidcProvider } from "./oidc_provider_servers.ts";
import type { ProcessGroup, Server } from "./processes.ts";
import type { OAuthFixture } from "./setup_data.ts";
import { type RequestSubject, type Settings, throughputRounds } from "./throughput.ts";

/** What the rounds run against: Postern and the baseline oidc-provider. */
interface GrantContext {
  tmp: string;
  postern: Server;
  fixture: OAuthFixture;
  baseline: OidcProvider;
}

/**
 * refresh_token with a fresh token per request. Each server's last token is checked first (200, the
 * same token kept); the rounds send the others once each, in order.
 */
export async function freshRefreshRounds(
  settings: Settings,
  group: ProcessGroup,
  context: GrantContext,
): Promise<RequestSubject[]> {
  const { tmp, postern, fixture, baseline } = context;
  const headers = clientHeaders(fixture);
  const body = (token: string) =>
    new URLSearchParams({ grant_type: "refresh_token", refresh_token: token }).toString();
  const subject = async (
    key: string,
    label: string,
    server: Server,
    path: string,
    tokens: string[],
  ): Promise<RequestSubject> => {
    const checked = tokens.at(-1)!;
    await checkRefresh(new URL(path, server.url), headers, {
      body: body(checked),
      refreshToken: checked,
      scope: fixture.scope,
    });
    const bodyListFile = `${tmp}/refresh-fresh-${key}.forms`;
    await Deno.writeTextFile(bodyListFile, tokens.slice(0, -1).map(body).join("\n") + "\n");
    return { key, label, server, results: [], request: { path, method: "POST", bodyListFile, headers } };
  };
  const subjects = [
    await subject(baseline.key, baseline.label, baseline.server, "/token", baseline.refreshTokens.slice(1)),
    await subject("postern", POSTERN_LABEL, postern, "/auth/token", fixture.freshTokens),
  ];
  console.log(
    `\nFresh refresh tokens: ${baseline.refreshTokens.length - 2} on ${baseline.key}, ` +
      `${fixture.freshTokens.length - 1} on postern, each sent once`,
  );
  await throughputRounds(settings, group, subjects, {
    title: "POST refresh_token grant throughput, a fresh refresh token per request (client_secret_basic)",
  });
  return subjects;
}

/** client_credentials, scope JMAP mail: every request gets a new access token. */
export async function clientCredentialsRounds(
  settings: Settings,
  group: ProcessGroup,
  context: GrantContext,
): Promise<RequestSubject[]> {
  const { tmp, postern, fixture, baseline } = context;
  const headers = clientHeaders(fixture);
  const scope = "urn:ietf:params:jmap:mail";
  const body = new URLSearchParams({ grant_type: "client_credentials", scope }).toString();
  const bodyFile = `${tmp}/client-credentials.form`;
  await Deno.writeTextFile(bodyFile, body);
  const subject = async (key: string, label: string, server: Server, path: string) => {
    const url = new URL(path, server.url);
    const answer = JSON.parse(
      new TextDecoder().decode(await httpPost(url, headers, new TextEncoder().encode(body))),
    );
    if (typeof answer.access_token !== "string" || answer.scope !== scope || answer.refresh_token) {
      throw new Error(`${url} answered client_credentials with ${JSON.stringify(answer)}`);
    }
    return { key, label, server, results: [], request: { path, method: "POST", bodyFile, headers } };
  };
  const subjects: RequestSubject[] = [
    await subject(baseline.key, baseline.label, baseline.server, "/token"),
    await subject("postern", POSTERN_LABEL, postern, "/auth/token"),
  ];
  await throughputRounds(settings, group, subjects, {
    title: "POST client_credentials grant throughput (client_secret_basic, scope JMAP mail)",
  });
  return subjects;
}
