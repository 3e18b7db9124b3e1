/**
 * The OAuth grant figures' baseline servers: node-oidc-provider on Node.js (the baseline, as its users
 * run it) and under Deno (for information), each with the benchmark's confidential client (same
 * client_id and secret as Postern's) and refresh tokens minted ahead (see oidc_provider_server.mjs).
 * Started once for the refresh_token, fresh refresh_token and client_credentials rounds.
 */
import { prepareNode } from "./oidc_provider_runtime.ts";
import type { ProcessGroup, Server } from "./processes.ts";
import type { OAuthFixture } from "./setup_data.ts";

/** The oidc-provider version of the repository's import map, for the labels. */
const OIDC_PROVIDER_VERSION = /@([^@]+)$/.exec(
  JSON.parse(Deno.readTextFileSync(new URL("../../deno.json", import.meta.url))).imports["oidc-provider"],
)?.[1] ?? "?";

/** One running oidc-provider and the refresh tokens it minted (the first is the reused one). */
export interface OidcProvider {
  /** "oidc" for the baseline, "oidc-deno" for the one under Deno when Node.js runs the baseline. */
  key: string;
  label: string;
  server: Server;
  refreshTokens: string[];
}

/**
 * Starts oidc-provider on Node.js and under Deno, each minting `tokens` refresh tokens. Without a
 * usable Node.js, the Deno one is the baseline, said so.
 */
export async function startOidcProviders(
  group: ProcessGroup,
  options: { tmp: string; fixture: OAuthFixture; tokens: number },
): Promise<OidcProvider[]> {
  const { tmp, fixture } = options;
  // "--name=value": a base64url secret may begin with "-", which parseArgs would take for an option.
  const serverArgs = (tokenFile: string) => [
    `--client-id=${fixture.clientId}`,
    `--client-secret=${fixture.secret}`,
    `--scope=${fixture.scope}`,
    `--token-file=${tokenFile}`,
    `--tokens=${options.tokens}`,
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
  const tokenFile = (runtime: string) => `${tmp}/oidc-provider-${runtime}-tokens.txt`;
  const [onNode, onDeno] = await Promise.all([
    node && group.startCommand(
      "oidc-provider-node",
      node.executable,
      [node.script, ...serverArgs(tokenFile("node"))],
      node.dir,
    ),
    group.startScript(
      "oidc-provider-deno",
      "scripts/bench/oidc_provider_server.mjs",
      serverArgs(tokenFile("deno")),
    ),
  ]);
  const tokensOf = async (runtime: string) =>
    (await Deno.readTextFile(tokenFile(runtime))).split("\n").filter((t) => t !== "");
  const version = OIDC_PROVIDER_VERSION;
  const providers: OidcProvider[] = [];
  if (node && onNode) {
    providers.push({
      key: "oidc",
      label: `node-oidc-provider ${version} (Node.js ${node.version}${node.lts ? ` LTS ${node.lts}` : ""}` +
        `${node.supported ? "" : ", which it calls unsupported"}, in-memory adapter)`,
      server: onNode,
      refreshTokens: await tokensOf("node"),
    });
  }
  providers.push({
    key: onNode ? "oidc-deno" : "oidc",
    label: `node-oidc-provider ${version} (under Deno ${Deno.version.deno}, unsupported there)`,
    server: onDeno,
    refreshTokens: await tokensOf("deno"),
  });
  return providers;
}
