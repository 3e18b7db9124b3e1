/**
 * A private Postfix instance (Debian package `postfix`) for the real-peer tests and the inbound
 * benchmark: its own main.cf and master.cf in a temporary directory, its queue and data directories
 * there too, its smtpd on one loopback port, its log in a file (postlogd; no syslog needed), no
 * chroot, nothing delivered locally. Mail for each domain of `transports` goes where that entry says
 * (`smtp:[127.0.0.1]:PORT`, `lmtp:inet:127.0.0.1:PORT`, `discard:`). The master process runs as root
 * (Postfix requires it) and its daemons as the `postfix` user the package creates; the system
 * instance is never started.
 */

/** Whether Postfix can run here: installed, and this process is root (its master must be). */
export async function canRunPostfix(): Promise<boolean> {
  if (Deno.uid() !== 0) return false;
  try {
    await Deno.stat("/usr/sbin/postfix");
    await Deno.stat("/usr/lib/postfix/sbin/master");
    return true;
  } catch {
    return false;
  }
}

/** A running private Postfix. */
export interface PostfixInstance {
  /** The configuration directory (for `postfix -c`, `postqueue -c`, `sendmail -C`). */
  dir: string;
  /** The loopback port of its smtpd. */
  smtpPort: number;
  /** Its log so far. */
  log(): Promise<string>;
  /** Whether its queue is empty (`postqueue -p`). */
  queueEmpty(): Promise<boolean>;
  /** Asks the queue manager to retry deferred mail now (`postqueue -f`). */
  flush(): Promise<void>;
  /** Stops it (`postfix stop`, then the master's PID killed if it lingers). */
  stop(): Promise<void>;
}

/** Options of {@link startPostfix}. */
export interface PostfixOptions {
  /** Its smtpd's loopback port. */
  smtpPort: number;
  /** Domain → transport (`smtp:[127.0.0.1]:2525`, `lmtp:inet:127.0.0.1:24`, `discard:`). */
  transports: Record<string, string>;
  /** More main.cf lines (`name = value`). */
  extra?: Record<string, string>;
  /** More master.cf services (`virtual unix - n n - - virtual` to store mail in mailboxes). */
  services?: string[];
}

const SERVICES = [
  "pickup    unix  n       -       n       60      1       pickup",
  "cleanup   unix  n       -       n       -       0       cleanup",
  "qmgr      unix  n       -       n       300     1       qmgr",
  "rewrite   unix  -       -       n       -       -       trivial-rewrite",
  "bounce    unix  -       -       n       -       0       bounce",
  "defer     unix  -       -       n       -       0       bounce",
  "trace     unix  -       -       n       -       0       bounce",
  "verify    unix  -       -       n       -       1       verify",
  "flush     unix  n       -       n       1000?   0       flush",
  "proxymap  unix  -       -       n       -       -       proxymap",
  "smtp      unix  -       -       n       -       -       smtp",
  "relay     unix  -       -       n       -       -       smtp",
  "showq     unix  n       -       n       -       -       showq",
  "error     unix  -       -       n       -       -       error",
  "retry     unix  -       -       n       -       -       error",
  "discard   unix  -       -       n       -       -       discard",
  "lmtp      unix  -       -       n       -       -       lmtp",
  "anvil     unix  -       -       n       -       1       anvil",
  "scache    unix  -       -       n       -       1       scache",
  "postlog   unix-dgram n  -       n       -       1       postlogd",
];

/** Writes a private configuration into `dir` and starts Postfix on it. */
export async function startPostfix(dir: string, options: PostfixOptions): Promise<PostfixInstance> {
  const transportMap = Object.entries(options.transports).map(([domain, to]) => `${domain}=${to}`).join(", ");
  const main: Record<string, string> = {
    compatibility_level: "3.6",
    queue_directory: `${dir}/queue`,
    data_directory: `${dir}/data`,
    maillog_file: `${dir}/maillog`,
    maillog_file_prefixes: dir,
    mail_owner: "postfix",
    setgid_group: "postdrop",
    inet_interfaces: "127.0.0.1",
    inet_protocols: "ipv4",
    myhostname: "sender.test",
    mydomain: "sender.test",
    myorigin: "sender.test",
    mydestination: "",
    local_recipient_maps: "",
    alias_maps: "",
    alias_database: "",
    mynetworks: "127.0.0.0/8",
    relay_domains: Object.keys(options.transports).join(" "),
    transport_maps: `inline:{ ${transportMap} }`,
    smtp_dns_support_level: "disabled",
    smtp_tls_security_level: "none",
    smtpd_tls_security_level: "none",
    lmtp_tls_security_level: "none",
    // A refusal bounces at once; a temporary failure is retried soon (tests flush instead of waiting).
    minimal_backoff_time: "5s",
    maximal_backoff_time: "10s",
    queue_run_delay: "5s",
    notify_classes: "",
    biff: "no",
    smtpd_banner: "$myhostname ESMTP",
    ...options.extra,
  };
  // The daemons (user postfix) must reach the queue inside `dir` (a temporary directory is 0700);
  // `dir`'s parents must be open to them already.
  await Deno.mkdir(dir, { recursive: true });
  await Deno.chmod(dir, 0o755);
  await Deno.mkdir(`${dir}/queue`, { recursive: true });
  await Deno.mkdir(`${dir}/data`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/main.cf`,
    Object.entries(main).map(([k, v]) => `${k} = ${v}`).join("\n") + "\n",
  );
  await Deno.writeTextFile(
    `${dir}/master.cf`,
    [`127.0.0.1:${options.smtpPort} inet n - n - - smtpd`, ...SERVICES, ...options.services ?? []].join(
      "\n",
    ) +
      "\n",
  );
  // The data directory belongs to the daemons' user; set-permissions makes the queue's subdirectories.
  await postfix(dir, ["set-permissions"]);
  const { uid, gid } = await userIds("postfix");
  await Deno.chown(`${dir}/data`, uid, gid);
  await postfix(dir, ["start"]);
  const instance: PostfixInstance = {
    dir,
    smtpPort: options.smtpPort,
    log: () => Deno.readTextFile(`${dir}/maillog`).catch(() => ""),
    async queueEmpty() {
      const out = await command("/usr/sbin/postqueue", ["-c", dir, "-p"]);
      return /Mail queue is empty/.test(out);
    },
    async flush() {
      await command("/usr/sbin/postqueue", ["-c", dir, "-f"]);
    },
    async stop() {
      const pid = await Deno.readTextFile(`${dir}/queue/pid/master.pid`).then((t) => Number(t.trim()))
        .catch(() => 0);
      await postfix(dir, ["stop"]).catch(() => undefined);
      for (let i = 0; i < 100 && pid && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
      if (pid && alive(pid)) Deno.kill(pid, "SIGKILL");
    },
  };
  return instance;
}

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

async function postfix(dir: string, args: string[]): Promise<string> {
  return await command("/usr/sbin/postfix", ["-c", dir, ...args]);
}

async function command(executable: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("script", {
    // Under a terminal Postfix prints its errors (otherwise they go only to its log).
    args: ["-qec", [executable, ...args].map((a) => `'${a}'`).join(" "), "/dev/null"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  if (code !== 0) throw new Error(`${executable} ${args.join(" ")} failed (exit ${code}): ${out}`);
  return out;
}

/** The uid and gid of a user of /etc/passwd (`postfix`, the daemons' user). */
export async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const passwd = await Deno.readTextFile("/etc/passwd");
  const line = passwd.split("\n").find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`No user "${name}" (is the postfix package installed?)`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}
