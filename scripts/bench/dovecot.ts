/**
 * A private Dovecot for the benchmark's baselines, in two setups sharing one launcher:
 *
 * - LMTP (Debian packages `dovecot-core`, `dovecot-lmtpd`), for the inbound benchmark: one loopback
 *   port, every recipient a user of a static userdb whose mail is a Maildir under `dir`.
 * - IMAP (`dovecot-core`, `dovecot-imapd`), for the IMAP benchmark: implicit TLS on one loopback port
 *   with the given certificate, one passwd-file user whose Maildir the caller fills, limits raised so
 *   hundreds of sessions of that user may stay open at once.
 *
 * Both keep Debian's defaults otherwise (fsync behaviour, no full-text search plugin), their base,
 * state and log in `dir`. Dovecot runs in the foreground (`dovecot -F`) as a child stopped by PID;
 * the system instance is never started. Mail is stored as the `nobody` user.
 */

/** The uid and gid Dovecot stores mail as (`nobody`). */
export const MAIL_UID = 65534;

/** Whether Dovecot's LMTP server is installed and this process is root (Dovecot's master must be). */
export async function canRunDovecot(): Promise<boolean> {
  return await installed("/usr/lib/dovecot/lmtp");
}

/** Whether Dovecot's IMAP server is installed and this process is root. */
export async function canRunDovecotImap(): Promise<boolean> {
  return await installed("/usr/lib/dovecot/imap");
}

async function installed(server: string): Promise<boolean> {
  if (Deno.uid() !== 0) return false;
  try {
    await Deno.stat("/usr/sbin/dovecot");
    await Deno.stat(server);
    return true;
  } catch {
    return false;
  }
}

/** A running private Dovecot. */
export interface DovecotInstance {
  lmtpPort: number;
  /** How many messages `user`'s INBOX holds (files in its Maildir's new/ and cur/). */
  count(user: string): Promise<number>;
  stop(): Promise<void>;
}

/** A running private Dovecot serving IMAP. */
export interface DovecotImapInstance {
  imapsPort: number;
  /** The master's PID (its children are the login and imap processes). */
  pid: number;
  stop(): Promise<void>;
}

const SHARED_SERVICES = `
service anvil {
  chroot =
}
service stats {
  unix_listener stats-reader {
    mode = 0600
  }
  unix_listener stats-writer {
    mode = 0600
  }
}
`;

/** Writes a private configuration into `dir` and starts Dovecot on it, LMTP on `lmtpPort`. */
export async function startDovecot(dir: string, lmtpPort: number): Promise<DovecotInstance> {
  await prepare(dir);
  await Deno.mkdir(`${dir}/mail`, { recursive: true });
  await Deno.chown(`${dir}/mail`, MAIL_UID, MAIL_UID);
  const config = `
protocols = lmtp
${common(dir)}
ssl = no
mail_location = maildir:${dir}/mail/%n
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=${MAIL_UID} gid=${MAIL_UID} home=${dir}/mail/%n
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtpPort}
  }
  unix_listener lmtp {
    mode = 0600
  }
}
${SHARED_SERVICES}`;
  const running = await launch(dir, config, lmtpPort);
  return {
    lmtpPort,
    async count(user) {
      let n = 0;
      for (const sub of ["new", "cur"]) {
        try {
          for await (const _ of Deno.readDir(`${dir}/mail/${user}/${sub}`)) n++;
        } catch { /* not created yet */ }
      }
      return n;
    },
    stop: running.stop,
  };
}

/**
 * Starts Dovecot serving IMAP over implicit TLS on `imapsPort` for one user whose home is `home`
 * (its mail in `home`/Maildir, which the caller has filled and made the `nobody` user's).
 */
export async function startDovecotImap(
  dir: string,
  options: {
    imapsPort: number;
    user: string;
    password: string;
    home: string;
    cert: string;
    key: string;
    /** A plain-text listener as well (for a transport comparison); none by default. */
    imapPort?: number;
  },
): Promise<DovecotImapInstance> {
  await prepare(dir);
  await Deno.writeTextFile(
    `${dir}/passwd`,
    `${options.user}:{PLAIN}${options.password}:${MAIL_UID}:${MAIL_UID}::${options.home}\n`,
  );
  const config = `
protocols = imap
${common(dir)}
ssl = required
ssl_cert = <${options.cert}
ssl_key = <${options.key}
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
# Hundreds of IDLE sessions of one user from one address (the default allows 10).
default_process_limit = 2000
default_client_limit = 4000
protocol imap {
  mail_max_userip_connections = 2000
}
passdb {
  driver = passwd-file
  args = ${dir}/passwd
}
userdb {
  driver = passwd-file
  args = ${dir}/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${options.imapPort ?? 0}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${options.imapsPort}
    ssl = yes
  }
}
${SHARED_SERVICES}`;
  const running = await launch(dir, config, options.imapsPort);
  return { imapsPort: options.imapsPort, pid: running.pid, stop: running.stop };
}

async function prepare(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/run`, { recursive: true });
  await Deno.mkdir(`${dir}/state`, { recursive: true });
  await Deno.chmod(dir, 0o755);
}

function common(dir: string): string {
  return `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
listen = 127.0.0.1
first_valid_uid = 1`;
}

/** Starts `dovecot -F` on `config` and waits until `port` accepts connections. */
async function launch(
  dir: string,
  config: string,
  port: number,
): Promise<{ pid: number; stop: () => Promise<void> }> {
  await Deno.writeTextFile(`${dir}/dovecot.conf`, config);
  const child = new Deno.Command("/usr/sbin/dovecot", {
    args: ["-F", "-c", `${dir}/dovecot.conf`],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const errors = new Response(child.stderr).text();
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (exited || Date.now() > deadline) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        const log = await Deno.readTextFile(`${dir}/dovecot.log`).catch(() => "");
        throw new Error(`Dovecot did not start: ${await errors}${log.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), 5000));
      if (await Promise.race([child.status, late]) === "late") {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        await child.status;
      }
      clearTimeout(timer);
      await errors.catch(() => undefined);
    },
  };
}
