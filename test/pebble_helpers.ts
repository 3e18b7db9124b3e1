/**
 * Helpers of the ACME tests: Debian's `pebble` (a test ACME CA) with `pebble-challtestsrv` as its DNS
 * server (every name resolves to 127.0.0.1, so Pebble's HTTP-01 validation connects to our HTTP
 * listener on loopback, and TLS-ALPN-01 to our HTTPS listener), both on free ports with a private config in a temp dir; and `openssl
 * s_client` to see which certificate a listener serves (HTTPS or SMTP STARTTLS).
 */
import { freePort, HANG_GUARD_MS } from "./helpers.ts";
import { hasCommand } from "./smtp_helpers.ts";

/** Whether pebble, its DNS companion and openssl are installed. */
export const HAS_PEBBLE = await hasCommand("pebble") && await hasCommand("pebble-challtestsrv") &&
  await hasCommand("openssl");

/** A running Pebble. */
export interface Pebble {
  directoryUrl: string;
  /** The CA of Pebble's own HTTPS (for --acme-ca-file). */
  caFile: string;
  caPem: string;
  /** Pebble's current root (it makes a new one at each start), which the issued chains lead to. */
  rootPem(): Promise<string>;
  /** Orders Pebble has finalized so far (read from its log). */
  issued(): number;
  /** What Pebble has logged so far. */
  log(): string;
  /** Stops Pebble (the DNS server keeps running); `start()` runs it again on the same ports. */
  stopCa(): Promise<void>;
  startCa(): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startPebble}. */
export interface PebbleOptions {
  /** The port Pebble's HTTP-01 validation connects to (our HTTP listener). */
  httpPort: number;
  /** The port Pebble's TLS-ALPN-01 validation connects to (our HTTPS listener); default: none of ours. */
  tlsPort?: number;
  /** PEBBLE_VA_ALWAYS_VALID: challenges pass without a connection (renewal tests). */
  alwaysValid?: boolean;
}

async function run(command: string, args: string[], cwd: string): Promise<void> {
  const { code, stderr } = await new Deno.Command(command, { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (code !== 0) throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

/** Starts pebble-challtestsrv (DNS) and pebble on free loopback ports. */
export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const dir = await Deno.makeTempDir({ prefix: "postern-pebble-" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=pebble test ca",
  ], dir);
  await run("openssl", [
    "req",
    ...ec,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  ], dir);
  await Deno.writeTextFile(`${dir}/ext`, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext",
  ], dir);
  const [acmePort, managementPort, dnsPort, dnsManagementPort] = [
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ];
  await Deno.writeTextFile(
    `${dir}/pebble.json`,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: `${dir}/server.pem`,
        privateKey: `${dir}/server.key`,
        httpPort: options.httpPort,
        tlsPort: options.tlsPort ?? freePort(),
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const dns = new Deno.Command("pebble-challtestsrv", {
    args: [
      "-dns01",
      `127.0.0.1:${dnsPort}`,
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-management",
      `127.0.0.1:${dnsManagementPort}`,
      "-defaultIPv4",
      "127.0.0.1",
      "-defaultIPv6",
      "",
    ],
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  let log = "";
  let ca: Deno.ChildProcess | undefined;
  let drained: Promise<void> | undefined;
  const caPem = await Deno.readTextFile(`${dir}/ca.pem`);
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  const startCa = async () => {
    ca = new Deno.Command("pebble", {
      args: ["-config", `${dir}/pebble.json`, "-dnsserver", `127.0.0.1:${dnsPort}`],
      env: {
        PEBBLE_VA_NOSLEEP: "1",
        PEBBLE_WFE_NONCEREJECT: "0",
        PEBBLE_AUTHZREUSE: "0",
        ...(options.alwaysValid ? { PEBBLE_VA_ALWAYS_VALID: "1" } : {}),
      },
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    const drain = async (stream: ReadableStream<Uint8Array>) => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) log += text;
    };
    drained = Promise.all([drain(ca.stdout), drain(ca.stderr)]).then(() => undefined);
    const deadline = Date.now() + HANG_GUARD_MS;
    while (true) {
      try {
        const response = await fetch(directoryUrl, { client });
        await response.body?.cancel();
        if (response.ok) break;
      } catch { /* not yet listening */ }
      if (Date.now() > deadline) throw new Error(`Pebble did not start: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stopCa = async () => {
    if (!ca) return;
    try {
      ca.kill("SIGTERM");
    } catch { /* exited */ }
    await ca.status;
    await drained;
    ca = undefined;
  };
  try {
    await startCa();
  } catch (error) {
    dns.kill("SIGTERM");
    await dns.status;
    throw error;
  }
  return {
    directoryUrl,
    caFile: `${dir}/ca.pem`,
    caPem,
    rootPem: async () =>
      await (await fetch(`https://127.0.0.1:${managementPort}/roots/0`, { client })).text(),
    issued: () => log.match(/Issued certificate serial/g)?.length ?? 0,
    log: () => log,
    stopCa,
    startCa,
    async stop() {
      await stopCa();
      try {
        dns.kill("SIGTERM");
      } catch { /* exited */ }
      await dns.status;
      client.close();
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    },
  };
}

/** The certificate a TLS listener presents: serial, issuer and subject as openssl prints them. */
export interface ServedCertificate {
  serial: string;
  issuer: string;
  subject: string;
}

/**
 * Connects with `openssl s_client` (SMTP STARTTLS when `starttls`) and reads the server's certificate;
 * undefined when no handshake completed.
 */
export async function servedCertificate(
  port: number,
  options: { starttls?: boolean; serverName?: string } = {},
): Promise<ServedCertificate | undefined> {
  const args = [
    "s_client",
    "-connect",
    `127.0.0.1:${port}`,
    "-servername",
    options.serverName ?? "mail.example.org",
  ];
  if (options.starttls) args.push("-starttls", "smtp");
  const { stdout } = await new Deno.Command("openssl", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  })
    .output();
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(
    new TextDecoder().decode(stdout),
  );
  if (!pem) return undefined;
  const x509 = new Deno.Command("openssl", {
    args: ["x509", "-noout", "-serial", "-issuer", "-subject"],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = x509.stdin.getWriter();
  await writer.write(new TextEncoder().encode(pem[0]));
  await writer.close();
  const text = new TextDecoder().decode((await x509.output()).stdout);
  const field = (name: string) => new RegExp(`^${name}=\\s*(.*)$`, "m").exec(text)?.[1] ?? "";
  return { serial: field("serial"), issuer: field("issuer"), subject: field("subject") };
}
