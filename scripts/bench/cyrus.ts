/**
 * A private Cyrus IMAP 3.6 with JMAP and Xapian search, for the full-text comparison
 * (scripts/bench/text_cyrus.ts), without installing Debian's cyrus-imapd: that package conflicts
 * (imap-server) with the dovecot-imapd other benchmarks and tests use.
 *
 * 1. The binaries: `apt-get download cyrus-common cyrus-imapd cyrus-caldav` (httpd, which serves
 *    JMAP, is in cyrus-caldav), unpacked with `dpkg -x` into `<dir>/pkg` and run from there with
 *    LD_LIBRARY_PATH pointing at their own libcyrus*. Their other libraries (libical3, libxapian30…,
 *    the `lib*` names of the packages' Depends) are installed with `apt-get install` when `ldd` finds
 *    one missing; they conflict with nothing.
 * 2. An instance: imapd.conf and cyrus.conf written into its directory (configuration, spool, Xapian
 *    tier, sockets, all inside it), `master` in the foreground, IMAP and HTTP on free loopback ports,
 *    stopped by PID. Passwords are not checked (`sasl_pwcheck_method: alwaystrue`): the figure is
 *    about search, and both servers then still parse Basic credentials on every request.
 *
 * Cyrus's services refuse to run as root: as root they run as `nobody`, so the directory must be
 * reachable by that user, which ~/.cache under a mode-700 /root is not; root's copy therefore lives
 * under /var/tmp/postern-bench/cyrus, anyone else's under ~/.cache/postern-bench/cyrus.
 */
import { defaultCacheDir, exists } from "./text_corpus.ts";

const PACKAGES = ["cyrus-common", "cyrus-imapd", "cyrus-caldav"];
/** The binaries the comparison runs, checked with ldd. */
const BINARIES = ["master", "imapd", "httpd", "squatter", "ctl_cyrusdb"];
const NOBODY = { user: "nobody", group: "nogroup", uid: 65534, gid: 65534 };

/** Where the unpacked packages and the corpora live (see the module's comment for root). */
export function cyrusCacheDir(): string {
  return Deno.uid() === 0 ? "/var/tmp/postern-bench/cyrus" : `${defaultCacheDir()}/cyrus`;
}

/** The unpacked Cyrus: its binaries' folder and the LD_LIBRARY_PATH they need. */
export interface CyrusInstall {
  bin: string;
  libraryPath: string;
}

/**
 * The unpacked Cyrus under `dir` (default {@link cyrusCacheDir}), downloaded and unpacked first when
 * absent. Throws an Error whose message says why Cyrus cannot run here (no apt-get, no network…).
 */
export async function installCyrus(
  options: { dir?: string; log?: (line: string) => void } = {},
): Promise<CyrusInstall> {
  const log = options.log ?? console.log;
  const pkg = `${options.dir ?? cyrusCacheDir()}/pkg`;
  const install = {
    bin: `${pkg}/usr/lib/cyrus/bin`,
    libraryPath: `${pkg}/usr/lib/x86_64-linux-gnu`,
  };
  if (!await exists(`${pkg}/complete`)) {
    if (Deno.build.os !== "linux") throw new Error("Cyrus comes from Debian packages: Linux only");
    await Deno.remove(pkg, { recursive: true }).catch(() => undefined);
    const download = `${pkg}.download`;
    await Deno.remove(download, { recursive: true }).catch(() => undefined);
    await Deno.mkdir(download, { recursive: true });
    log(`Downloading ${PACKAGES.join(", ")} (apt-get download) into ${download}`);
    await run("apt-get", ["download", ...PACKAGES], { cwd: download });
    await Deno.mkdir(pkg, { recursive: true });
    const debs = [...Deno.readDirSync(download)].map((e) => `${download}/${e.name}`).filter((n) =>
      n.endsWith(".deb")
    );
    if (debs.length !== PACKAGES.length) throw new Error(`apt-get download gave ${debs.length} .deb files`);
    const libraries = new Set<string>();
    for (const deb of debs) {
      await run("dpkg", ["-x", deb, pkg]);
      for (const name of libraryDepends(await run("dpkg-deb", ["-f", deb, "Depends"]))) libraries.add(name);
    }
    await Deno.writeTextFile(`${pkg}/libraries`, [...libraries].join("\n"));
    await Deno.remove(download, { recursive: true });
    await Deno.writeTextFile(`${pkg}/complete`, new Date().toISOString());
  }
  if ((await missingLibraries(install)).length) {
    const libraries = (await Deno.readTextFile(`${pkg}/libraries`)).split("\n").filter(Boolean);
    if (Deno.uid() !== 0) {
      throw new Error(
        `Cyrus needs libraries that are not installed; as root: apt-get install ${libraries.join(" ")}`,
      );
    }
    log(`Installing Cyrus's libraries: apt-get install ${libraries.join(" ")}`);
    await run("apt-get", ["install", "-y", "--no-install-recommends", ...libraries], {
      env: { DEBIAN_FRONTEND: "noninteractive" },
    });
    const still = await missingLibraries(install);
    if (still.length) throw new Error(`Cyrus's binaries still miss ${still.join(", ")}`);
  }
  return install;
}

/** The `lib*` packages of a Depends field (the first of alternatives, without versions). */
function libraryDepends(depends: string): string[] {
  return depends.split(",").map((d) => d.split("|")[0].trim().split(" ")[0].replace(/:any$/, ""))
    .filter((name) => name.startsWith("lib"));
}

async function missingLibraries(install: CyrusInstall): Promise<string[]> {
  const missing = new Set<string>();
  for (const binary of BINARIES) {
    const out = await run("ldd", [`${install.bin}/${binary}`], {
      env: { LD_LIBRARY_PATH: install.libraryPath },
    });
    for (const line of out.split("\n")) {
      if (line.includes("not found")) missing.add(line.trim().split(" ")[0]);
    }
  }
  return [...missing];
}

/** A running private Cyrus. */
export interface CyrusInstance {
  pid: number;
  imapPort: number;
  httpPort: number;
  /** The JMAP API's URL (its session is at the same URL with GET). */
  jmapUrl: string;
  /** The imapd.conf its programs (squatter…) must be given with -C. */
  config: string;
  install: CyrusInstall;
  stop(): Promise<void>;
}

/**
 * Starts Cyrus's master on `dir` (created as needed; its mail, indexes and databases persist there):
 * IMAP and JMAP on free loopback ports. Resolves once both accept connections. `settings` are extra
 * imapd.conf lines (e.g. `jmap_nonstandard_extensions: yes` for Cyrus's performance details).
 */
export async function startCyrus(
  install: CyrusInstall,
  dir: string,
  options: { settings?: string[] } = {},
): Promise<CyrusInstance> {
  for (const sub of ["conf", "spool", "search", "sieve", "run/proc", "run/lock", "run/socket"]) {
    await Deno.mkdir(`${dir}/${sub}`, { recursive: true });
  }
  const [imapPort, httpPort] = [freePort(), freePort()];
  const config = `${dir}/imapd.conf`;
  await Deno.writeTextFile(
    config,
    imapdConf(dir) + (options.settings ?? []).map((line) => `${line}\n`).join(""),
  );
  await Deno.writeTextFile(`${dir}/cyrus.conf`, cyrusConf(install.bin, config, { imapPort, httpPort }));
  if (Deno.uid() === 0) await run("chown", ["-R", `${NOBODY.uid}:${NOBODY.gid}`, dir]);
  const child = new Deno.Command(`${install.bin}/master`, {
    args: [
      "-C",
      config,
      "-M",
      `${dir}/cyrus.conf`,
      "-p",
      `${dir}/run/master.pid`,
      "-L",
      `${dir}/run/error.log`,
    ],
    env: cyrusEnv(install),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  };
  try {
    for (const port of [imapPort, httpPort]) await waitForPort(port, child);
  } catch (error) {
    await stop();
    const log = await Deno.readTextFile(`${dir}/run/error.log`).catch(() => "");
    throw new Error(`${(error as Error).message}${log ? `; ${log.trim()}` : ""}`);
  }
  return {
    pid: child.pid,
    imapPort,
    httpPort,
    jmapUrl: `http://127.0.0.1:${httpPort}/jmap/`,
    config,
    install,
    stop,
  };
}

/** Runs a Cyrus program (squatter, ctl_conversationsdb…) as the Cyrus user with the instance's configuration. */
export async function cyrusTool(cyrus: CyrusInstance, program: string, args: string[]): Promise<string> {
  return await run(`${cyrus.install.bin}/${program}`, ["-C", cyrus.config, ...args], {
    env: cyrusEnv(cyrus.install),
  });
}

/** The environment of Cyrus's programs: its libraries, and the user they switch to (never root). */
function cyrusEnv(install: CyrusInstall): Record<string, string> {
  const self = Deno.uid() === 0 ? NOBODY : { user: whoami(), group: "" };
  return {
    LD_LIBRARY_PATH: install.libraryPath,
    CYRUS_USER: self.user,
    ...(self.group ? { CYRUS_GROUP: self.group } : {}),
  };
}

function whoami(): string {
  return Deno.env.get("USER") ??
    new TextDecoder().decode(new Deno.Command("id", { args: ["-un"] }).outputSync().stdout)
      .trim();
}

/**
 * The settings: JMAP in httpd, conversations (JMAP needs them for threads), Xapian as the search
 * engine with one tier in the instance's directory, headers indexed (from/subject conditions). The
 * JMAP query cache stays at its default (off), as Postern keeps no cache of results either.
 */
function imapdConf(dir: string): string {
  return [
    `configdirectory: ${dir}/conf`,
    "defaultpartition: default",
    `partition-default: ${dir}/spool`,
    `proc_path: ${dir}/run/proc`,
    `mboxname_lockpath: ${dir}/run/lock`,
    `lmtpsocket: ${dir}/run/socket/lmtp`,
    `idlesocket: ${dir}/run/socket/idle`,
    `notifysocket: ${dir}/run/socket/notify`,
    `sievedir: ${dir}/sieve`,
    "admins: admin",
    "altnamespace: yes",
    "unixhierarchysep: yes",
    "virtdomains: off",
    "allowplaintext: yes",
    "sasl_pwcheck_method: alwaystrue",
    "sasl_mech_list: PLAIN LOGIN",
    "httpmodules: jmap",
    "conversations: yes",
    "conversations_db: twoskip",
    "search_engine: xapian",
    "search_index_headers: yes",
    "search_batchsize: 8192",
    "defaultsearchtier: t1",
    `t1searchpartition-default: ${dir}/search`,
    "syslog_prefix: postern-bench-cyrus",
    "",
  ].join("\n");
}

/** Services: IMAP (loading) and HTTP (JMAP), preforked so the first connection finds a process. */
function cyrusConf(bin: string, config: string, ports: { imapPort: number; httpPort: number }): string {
  return `START {
  recover cmd="${bin}/ctl_cyrusdb -C ${config} -r"
}
SERVICES {
  imap cmd="${bin}/imapd -C ${config}" listen="127.0.0.1:${ports.imapPort}" prefork=1
  http cmd="${bin}/httpd -C ${config}" listen="127.0.0.1:${ports.httpPort}" prefork=1
}
EVENTS {
  checkpoint cmd="${bin}/ctl_cyrusdb -C ${config} -c" period=30
}
`;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitForPort(port: number, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !exited) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`Cyrus's master ${exited ? "exited" : "did not listen"} on port ${port}`);
}

/** Runs a command to completion; its stdout, or an Error with its stderr. */
async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, { args, cwd: options.cwd, env: options.env, stdin: "null" })
      .output();
  } catch (error) {
    throw new Error(`${command}: ${(error as Error).message}`);
  }
  const decoder = new TextDecoder();
  if (!output.success) {
    const err = decoder.decode(output.stderr).trim().split("\n").slice(-3).join(" / ");
    throw new Error(`${command} ${args.slice(0, 3).join(" ")} failed (${output.code}): ${err}`);
  }
  return decoder.decode(output.stdout);
}
