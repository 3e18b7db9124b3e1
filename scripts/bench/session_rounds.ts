/**
 * Figure 9's run: `GET /jmap/session` with a cached Bearer access token, for a user with shared
 * accounts and for one without, each against a bare `Deno.serve` sending the bytes Postern answered
 * that user (one bare server per body: a bigger body costs the bare server more too).
 */
import { httpGet, sameBytes } from "./http_client.ts";
import type { MailFixture, MailUser } from "./mail_fixture.ts";
import type { ProcessGroup, Server } from "./processes.ts";
import { type RequestSubject, type Settings, throughputRounds } from "./throughput.ts";

const PATH = "/jmap/session";

/** The session bodies of both users, their bare servers, then the interleaved rounds of all four. */
export async function sessionRounds(
  settings: Settings,
  group: ProcessGroup,
  context: { tmp: string; postern: Server; fixture: MailFixture },
): Promise<RequestSubject[]> {
  const { tmp, postern, fixture } = context;
  const pair = async (key: string, who: string, user: MailUser, sharedAccounts: number) => {
    const headers = { authorization: `Bearer ${user.accessToken}` };
    const body = await httpGet(new URL(PATH, postern.url), headers);
    const session = JSON.parse(new TextDecoder().decode(body));
    const accounts = Object.keys(session.accounts ?? {}).length;
    if (session.username !== user.login || accounts !== 1 + sharedAccounts) {
      throw new Error(
        `The session of ${user.login} lists ${accounts} accounts, not ${1 + sharedAccounts}: ` +
          new TextDecoder().decode(body).slice(0, 500),
      );
    }
    const bodyFile = `${tmp}/session-${key}.json`;
    await Deno.writeFile(bodyFile, body);
    const bare = await group.startScript(`bare-session-${key}`, "scripts/bench/bare_server.ts", [
      "--body-file",
      bodyFile,
    ]);
    if (!sameBytes(await httpGet(new URL(PATH, bare.url), {}), body)) {
      throw new Error(`${bare.name} answers other bytes than postern`);
    }
    console.log(
      `session of ${user.login}: ${accounts} accounts, ${body.length.toLocaleString("en-US")} bytes`,
    );
    const request = { path: PATH, headers };
    return [
      {
        key: `bare-${key}`,
        label: `bare Deno.serve, same session (${who})`,
        server: bare,
        results: [],
        request,
      },
      { key, label: `postern serve, Bearer (${who})`, server: postern, results: [], request },
    ];
  };
  const subjects: RequestSubject[] = [
    ...await pair("shared", `${fixture.sharers} shared accounts`, fixture.shared, fixture.sharers),
    ...await pair("alone", "no shared account", fixture.alone, 0),
  ];
  await throughputRounds(settings, group, subjects, {
    title: "GET /jmap/session throughput (cached Bearer token)",
  });
  return subjects;
}
