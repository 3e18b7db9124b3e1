/**
 * IMAP connection hygiene against a real `postern serve`: openssl s_client sees the certificate on
 * 993 and after STARTTLS on 143; idle pre-auth connections are cut by the per-address cap and by the
 * login timeout; /metrics counts sessions, logins and commands; one log line per session, without
 * the password.
 */
import assert from "node:assert/strict";
import { PASSWORD, until } from "./helpers.ts";
import { imapPeersMissing, ImapTalk, startImapProcess } from "./imap_helpers.ts";
import { createUsers, serverTarget } from "./mail_helpers.ts";

const ignore = imapPeersMissing("IMAP limits with openssl");

/** What `openssl s_client` prints about the server's certificate. */
async function sClient(port: number, starttls: boolean): Promise<string> {
  const { stdout } = await new Deno.Command("openssl", {
    args: ["s_client", "-connect", `127.0.0.1:${port}`, ...(starttls ? ["-starttls", "imap"] : []), "-brief"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output().then((o) => ({
    stdout: new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr),
  }));
  return stdout;
}

Deno.test({
  name: "IMAP: the certificate on 993 and after STARTTLS, connection caps, the login timeout, metrics",
  ignore,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-imap-limits-" });
    const server = await startImapProcess(dataDir, {
      POSTERN_IMAP_MAX_CONNECTIONS_PER_ADDRESS: "3",
      POSTERN_IMAP_LOGIN_TIMEOUT: "4",
    });
    try {
      await createUsers(serverTarget(server.url), ["alice"]);

      await t.step("openssl s_client sees the certificate on 993 and after STARTTLS on 143", async () => {
        for (const [port, starttls] of [[server.imapsPort, false], [server.imapPort, true]] as const) {
          const out = await sClient(port, starttls);
          assert.match(out, /CN ?= ?localhost/, out);
          assert.match(out, /Protocol version: TLSv1\.[23]/, out);
        }
      });

      await t.step(
        "a fourth idle connection from one address is turned away; the others are cut by the login timeout",
        async () => {
          const idle = await Promise.all(
            [1, 2, 3].map(() =>
              ImapTalk.open(server.imapPort, { implicitTls: false, certPem: server.certPem })
            ),
          );
          try {
            const fourth = await ImapTalk.open(server.imapPort, {
              implicitTls: false,
              certPem: server.certPem,
            });
            assert.match(fourth.greeting, /^\* BYE Too many connections/);
            fourth.close();
            for (const talk of idle) {
              assert.match(await talk.line(), /^\* BYE Login timeout/);
              assert.ok(await talk.closed());
            }
          } finally {
            for (const talk of idle) talk.close();
          }
          // The slots are free again.
          const next = await ImapTalk.open(server.imapsPort, { implicitTls: true, certPem: server.certPem });
          assert.match(next.greeting, /^\* OK /);
          assert.match((await next.command(`LOGIN alice "${PASSWORD}"`)).at(-1)!, /OK/);
          await next.command("LOGOUT");
          next.close();
        },
      );

      await t.step(
        "/metrics counts sessions, refusals, logins and commands; one log line per session",
        async () => {
          let metrics = "";
          await until(async () => {
            metrics = await (await fetch(`${server.url}/metrics`)).text();
            return /postern_imap_connections\{listener="imaps"\} 0/.test(metrics);
          }, "the session to close");
          assert.match(metrics, /postern_imap_refusals_total\{reason="tooManyFromAddress"\} 1/);
          assert.match(metrics, /postern_imap_refusals_total\{reason="loginTimeout"\} 3/);
          assert.match(metrics, /postern_imap_logins_total\{mechanism="login",outcome="success"\} 1/);
          assert.match(metrics, /postern_imap_commands_total\{command="LOGOUT",status="OK"\} 1/);
          // Info lines are written in batches (up to 25 ms later): wait for alice's.
          const sessions = () => server.stderr().split("\n").filter((l) => l.includes('"imap.session"'));
          await until(() => sessions().some((l) => l.includes('"account":"alice"')), "alice's session line");
          assert.ok(!server.stderr().includes(PASSWORD));
        },
      );
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
