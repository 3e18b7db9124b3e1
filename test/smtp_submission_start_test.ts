/**
 * Starting the submission listeners: without certificate files, or on a busy port, `postern serve`
 * stops with one line naming the flag to change (and no first admin is made for nothing).
 */
import assert from "node:assert/strict";
import { freePort } from "./helpers.ts";
import { jsonLines } from "./log_helpers.ts";
import { selfSignedCertificate, submissionPeersMissing } from "./smtp_submission_helpers.ts";

async function failedStart(args: string[]): Promise<{ code: number; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../main.ts", import.meta.url).pathname,
      "serve",
      "--domain",
      "example.org",
      ...args,
    ],
    env: { NO_COLOR: "1", POSTERN_ADMIN_PASSWORD: "" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("submission without certificate files is a configuration error naming the flag and the TLS flags", async () => {
  const parent = await Deno.makeTempDir({ prefix: "postern-submission-start-" });
  try {
    for (
      const [flag, variable] of [
        ["--submission-listen", "POSTERN_SUBMISSION_LISTEN"],
        ["--submissions-listen", "POSTERN_SUBMISSIONS_LISTEN"],
      ]
    ) {
      const { code, stderr } = await failedStart([
        "--data",
        `${parent}/data`,
        "--listen",
        `127.0.0.1:${freePort()}`,
        flag,
        `127.0.0.1:${freePort()}`,
      ]);
      assert.equal(code, 2, stderr);
      assert.equal(
        stderr.trim(),
        `postern: Cannot start ${flag} (${variable}): submission needs TLS; set --tls-cert and --tls-key ` +
          "(POSTERN_TLS_CERT, POSTERN_TLS_KEY)",
      );
    }
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test({
  name: "a busy implicit-TLS port is one line naming --submissions-listen",
  ignore: submissionPeersMissing("busy submission port"),
  async fn() {
    const parent = await Deno.makeTempDir({ prefix: "postern-submission-busy-" });
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (busy.addr as Deno.NetAddr).port;
    try {
      const files = await selfSignedCertificate(parent);
      const { code, stderr } = await failedStart([
        "--data",
        `${parent}/data`,
        "--listen",
        `127.0.0.1:${freePort()}`,
        "--tls-cert",
        files.cert,
        "--tls-key",
        files.key,
        "--submission-listen",
        `127.0.0.1:${freePort()}`,
        "--submissions-listen",
        `127.0.0.1:${port}`,
      ]);
      const lines = jsonLines(stderr);
      assert.equal(code, 1);
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.equal(
        lines[0].message,
        `Cannot listen on 127.0.0.1:${port}: the address is already in use (another Postern or another server?); ` +
          "change --submissions-listen (POSTERN_SUBMISSIONS_LISTEN)",
      );
    } finally {
      busy.close();
      await Deno.remove(parent, { recursive: true });
    }
  },
});
