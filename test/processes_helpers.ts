/** Helpers of the tests of several serving processes (`postern serve --processes N`). */
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, basic, PASSWORD, type ServerProcess, startServerProcess, until } from "./helpers.ts";
import type { PinnedConnection } from "./pinned_connection.ts";

export const ADMIN = basic("admin@example.org", ADMIN_PASSWORD);

/** A server of `count` processes, once all of them serve. */
export async function startProcesses(
  dataDir: string,
  count = 2,
  args: string[] = [],
): Promise<ServerProcess> {
  const server = await startServerProcess(dataDir, {}, {
    args: ["--processes", String(count), "--log-level", "info", ...args],
  });
  await until(
    () => server.stderr().includes(`All ${count} processes serving`),
    `${count} processes serving`,
  );
  return server;
}

/** Process ids whose parent is `pid` (Linux /proc). */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // The fourth field, after the command in parentheses (which may hold spaces).
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry.name));
    } catch { /* exited meanwhile */ }
  }
  return children;
}

export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** x:Account/set creating user `name` with the test password, through `connection`. */
export async function createUser(connection: PinnedConnection, name: string): Promise<void> {
  const response = await connection.request("POST", "/jmap", {
    headers: { authorization: ADMIN, "content-type": "application/json" },
    body: JSON.stringify({
      using: ["urn:ietf:params:jmap:core", "urn:postern:jmap"],
      methodCalls: [["x:Account/set", {
        accountId: "b",
        create: {
          u: {
            "@type": "User",
            name,
            domainId: "b",
            roles: { "0": "user" },
            credentials: { "0": { "@type": "Password", secret: PASSWORD } },
          },
        },
      }, "0"]],
    }),
  });
  assert.equal(response.status, 200, response.text);
  assert.ok(JSON.parse(response.text).methodResponses[0][1].created?.u, response.text);
}
