/**
 * A private Dovecot (Debian packages `dovecot-core`, `dovecot-lmtpd`) for the inbound benchmark's
 * baseline: LMTP only, on one loopback port, every recipient a user of a static userdb whose mail
 * is a Maildir under `dir` (Dovecot's default fsync behaviour), its base, state and log in `dir`.
 * It runs in the foreground (`dovecot -F`) as a child the caller stops; the system instance is
 * never started. Mail is stored as the `nobody` user.
 */

/** Whether Dovecot's LMTP server is installed and this process is root (Dovecot's master must be). */
export async function canRunDovecot(): Promise<boolean> {
  if (Deno.uid() !== 0) return false;
  try {
    await Deno.stat("/usr/sbin/dovecot");
    await Deno.stat("/usr/lib/dovecot/lmtp");
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

/** Writes a private configuration into `dir` and starts Dovecot on it, LMTP on `lmtpPort`. */
export async function startDovecot(dir: string, lmtpPort: number): Promise<DovecotInstance> {
  await Deno.mkdir(`${dir}/run`, { recursive: true });
  await Deno.mkdir(`${dir}/state`, { recursive: true });
  await Deno.mkdir(`${dir}/mail`, { recursive: true });
  await Deno.chmod(dir, 0o755);
  await Deno.chown(`${dir}/mail`, 65534, 65534);
  const config = `
protocols = lmtp
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
ssl = no
listen = 127.0.0.1
first_valid_uid = 1
mail_location = maildir:${dir}/mail/%n
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=${dir}/mail/%n
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
      (await Deno.connect({ hostname: "127.0.0.1", port: lmtpPort })).close();
      break;
    } catch {
      if (exited || Date.now() > deadline) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        throw new Error(`Dovecot did not start: ${await errors}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
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
