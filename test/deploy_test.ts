/**
 * The files in deploy/: the systemd unit (systemd-analyze verify), the Caddyfile (caddy validate), and
 * nginx.conf for real: nginx on 127.0.0.1 in front of a real Postern, as the file is shipped but for
 * ports and a test certificate. Each test skips, saying why, when its tool is not installed (Debian
 * packages systemd, caddy, nginx-light, openssl, curl).
 */
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, freePort, startServerProcess } from "./helpers.ts";
import { jsonLines } from "./log_helpers.ts";

const DEPLOY = new URL("../deploy/", import.meta.url).pathname;

/** Runs a command to its end; undefined when the program is not installed. */
async function run(program: string, args: string[]) {
  try {
    const output = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped", stdin: "null" })
      .output();
    const text = new TextDecoder();
    return { code: output.code, stdout: text.decode(output.stdout), stderr: text.decode(output.stderr) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** `text` with each [from, to] replaced; each `from` must be there (the test follows the file). */
function substitute(text: string, pairs: [string, string][]): string {
  for (const [from, to] of pairs) {
    assert.ok(text.includes(from), `"${from}" not found in the shipped file`);
    text = text.replaceAll(from, to);
  }
  return text;
}

Deno.test("the systemd unit passes systemd-analyze verify and has restart, limits and hardening", async () => {
  const unit = await Deno.readTextFile(`${DEPLOY}postern.service`);
  for (
    const line of [
      "Restart=on-failure",
      "LimitNOFILE=65536",
      "User=postern",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ReadWritePaths=/var/lib/postern",
      "PrivateTmp=yes",
      "ProtectHome=yes",
      "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
    ]
  ) assert.match(unit, new RegExp(`^${line}$`, "m"));
  const dir = await Deno.makeTempDir({ prefix: "postern-unit-" });
  try {
    // verify checks that ExecStart's program exists: this Deno stands in for the installed binary.
    await Deno.writeTextFile(
      `${dir}/postern.service`,
      substitute(unit, [["/usr/local/bin/postern", Deno.execPath()]]),
    );
    const result = await run("systemd-analyze", ["verify", `${dir}/postern.service`]);
    if (result === undefined) {
      return console.warn("skipped: systemd-analyze is not installed (Debian: systemd)");
    }
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr.split("\n").filter((l) => l.includes("postern.service")).join("\n"), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the Caddyfile passes caddy validate", async () => {
  const result = await run("caddy", ["validate", "--config", `${DEPLOY}Caddyfile`, "--adapter", "caddyfile"]);
  if (result === undefined) return console.warn("skipped: caddy is not installed (Debian: caddy)");
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout + result.stderr, /Valid configuration/);
});

Deno.test("through the shipped nginx.conf: login, an unbuffered event stream, the client's own address, no public metrics", async () => {
  const tools = await Promise.all(["nginx", "openssl", "curl"].map((p) => run(p, ["-h"])));
  const missing = ["nginx", "openssl", "curl"].filter((_, i) => tools[i] === undefined);
  if (missing.length > 0) {
    return console.warn(`skipped: ${missing.join(", ")} not installed (Debian: nginx-light)`);
  }
  const dir = await Deno.makeTempDir({ prefix: "postern-nginx-" });
  const server = await startServerProcess(`${dir}/data`, {
    POSTERN_PUBLIC_URL: "https://mail.example.org",
    POSTERN_TRUSTED_PROXIES: "127.0.0.1",
  });
  let nginx: Deno.ChildProcess | undefined;
  try {
    const cert = await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
    ]);
    assert.equal(cert?.code, 0, cert?.stderr);
    const https = freePort();
    const site = substitute(await Deno.readTextFile(`${DEPLOY}nginx.conf`), [
      ["server 127.0.0.1:8080;", `server 127.0.0.1:${new URL(server.url).port};`],
      ["    listen [::]:80;\n", ""],
      ["    listen [::]:443 ssl http2;\n", ""],
      ["listen 80;", `listen 127.0.0.1:${freePort()};`],
      ["listen 443 ssl", `listen 127.0.0.1:${https} ssl`],
      ["/etc/letsencrypt/live/mail.example.org/fullchain.pem", `${dir}/cert.pem`],
      ["/etc/letsencrypt/live/mail.example.org/privkey.pem", `${dir}/key.pem`],
    ]);
    await Deno.writeTextFile(`${dir}/site.conf`, site);
    const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) =>
      `${t}_temp_path ${dir}/${t};`
    );
    await Deno.writeTextFile(
      `${dir}/nginx.conf`,
      `daemon off;\nmaster_process off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\n` +
        `http {\naccess_log off;\n${temp.join("\n")}\ninclude ${dir}/site.conf;\n}\n`,
    );
    const test = await run("nginx", ["-t", "-p", dir, "-c", `${dir}/nginx.conf`]);
    assert.equal(test?.code, 0, test?.stderr);
    nginx = new Deno.Command("nginx", { args: ["-p", dir, "-c", `${dir}/nginx.conf`], stderr: "null" })
      .spawn();
    const base = `https://127.0.0.1:${https}`;
    // The client connects from 127.0.0.2, so its address differs from the proxy's (127.0.0.1).
    const curl = (path: string, ...args: string[]) =>
      run("curl", [
        "-sS",
        "--cacert",
        `${dir}/cert.pem`,
        "--interface",
        "127.0.0.2",
        "--max-time",
        "60",
        ...args,
        `${base}${path}`,
      ]);
    assert.doesNotMatch(server.startup, /no --trusted-proxy/);
    let up = await curl("/healthz");
    for (let i = 0; i < 100 && up?.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      up = await curl("/healthz");
    }
    assert.equal(up?.code, 0, up?.stderr);

    const session = await curl("/jmap/session", "-u", `admin@example.org:${ADMIN_PASSWORD}`);
    assert.equal(JSON.parse(session!.stdout).apiUrl, "https://mail.example.org/jmap/", session!.stdout);
    const wrong = await curl(
      "/jmap/session",
      "-u",
      "admin@example.org:wrong",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
    );
    assert.equal(wrong?.stdout, "401");
    // Authorization: through the proxy, /metrics is not local any more.
    const metrics = await curl("/metrics", "-o", "/dev/null", "-w", "%{http_code}");
    assert.equal(metrics?.stdout, "401");

    // The event stream's pings (one a second) arrive while it is open: nginx does not hold them back.
    const stream = new Deno.Command("curl", {
      // --max-time: a hang guard (a proxy holding the pings back would keep them until then).
      args: [
        "-sSN",
        "--max-time",
        "60",
        "--cacert",
        `${dir}/cert.pem`,
        "-u",
        `admin@example.org:${ADMIN_PASSWORD}`,
        `${base}/jmap/eventsource/?types=*&closeafter=no&ping=1`,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = stream.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let events = "";
    try {
      while ((events.match(/event: ping/g) ?? []).length < 2) {
        const { value, done } = await reader.read();
        assert.ok(!done, `the stream ended: ${events}`);
        events += value;
      }
    } finally {
      stream.kill("SIGTERM");
      await reader.cancel().catch(() => undefined);
      await stream.status;
    }

    const failed = () => jsonLines(server.stderr()).filter((l) => l.properties?.event === "login_failed");
    for (let i = 0; i < 200 && failed().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(failed().map((l) => l.properties?.client), ["127.0.0.2"]);
  } finally {
    nginx?.kill("SIGTERM");
    await nginx?.status;
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a proxied set-up without --trusted-proxy is warned about at start, and what its proxy forwards gets no metrics", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-metrics-" });
  const server = await startServerProcess(dataDir, { POSTERN_PUBLIC_URL: "https://mail.example.org" });
  try {
    const warning = jsonLines(server.startup).find((l) => l.message.includes("no --trusted-proxy"));
    assert.equal(warning?.level, "WARN", server.startup);
    assert.match(
      warning!.message,
      /^Listening on 127\.0\.0\.1 with public URL https:\/\/mail\.example\.org but/,
    );
    const forwarded = await fetch(`${server.url}/metrics`, { headers: { "x-forwarded-for": "203.0.113.7" } });
    assert.equal(forwarded.status, 401);
    await forwarded.body?.cancel();
    const viaForwarded = await fetch(`${server.url}/metrics`, { headers: { forwarded: "for=203.0.113.7" } });
    assert.equal(viaForwarded.status, 401);
    await viaForwarded.body?.cancel();
    const local = await fetch(`${server.url}/metrics`);
    assert.equal(local.status, 200);
    assert.match(await local.text(), /postern_http_requests_total/);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
