/**
 * A private Dovecot IMAP server (Debian packages `dovecot-core`, `dovecot-imapd`) for differential
 * tests: one passwd-file user whose Maildir holds the given messages in order, IMAP on a free
 * loopback port, its base, state and log in a temporary directory. It runs in the foreground
 * (`dovecot -F`) and is stopped by PID; the system instance is never started. Also a reader of
 * IMAP response values (RFC 9051 §4) so its answers can be compared as structures.
 */

import { freePort } from "./helpers.ts";

/** Whether Dovecot's IMAP server is installed and this process is root (Dovecot's master must be). */
export function canRunDovecotImap(): boolean {
  try {
    if (Deno.uid() !== 0) return false;
    Deno.statSync("/usr/sbin/dovecot");
    Deno.statSync("/usr/lib/dovecot/imap");
    return true;
  } catch {
    return false;
  }
}

/** A logged-in IMAP connection to the private Dovecot with INBOX selected. */
export interface DovecotImap {
  /** Sends `tag command` and returns every byte of the answer up to the tagged status line. */
  command(text: string): Promise<Uint8Array>;
  stop(): Promise<void>;
}

const USER = "tester";
const PASSWORD = "secret-pass";

/**
 * Starts Dovecot with `messages` in INBOX (UIDs 1… in order), logs in and selects INBOX. Each
 * message's INTERNALDATE is its file's mtime: `internalDates` (ms) sets them.
 */
export async function startDovecotImap(
  messages: Uint8Array[],
  options: { internalDates?: number[] } = {},
): Promise<DovecotImap> {
  const dir = await Deno.makeTempDir({ prefix: "postern-dovecot-imap-" });
  await Deno.chmod(dir, 0o755);
  for (const sub of ["run", "state", "mail"]) await Deno.mkdir(`${dir}/${sub}`, { recursive: true });
  const maildir = `${dir}/mail/${USER}/Maildir`;
  for (const sub of ["new", "cur", "tmp"]) await Deno.mkdir(`${maildir}/${sub}`, { recursive: true });
  // Timestamped names in increasing order: Dovecot numbers new Maildir files in that order.
  for (let i = 0; i < messages.length; i++) {
    const file = `${maildir}/cur/${1700000000 + i}.M${i}P1.test:2,`;
    await Deno.writeFile(file, messages[i]);
    const date = options.internalDates?.[i];
    if (date !== undefined) await Deno.utime(file, date / 1000, date / 1000);
  }
  await new Deno.Command("chown", { args: ["-R", "65534:65534", `${dir}/mail`] }).output();
  await Deno.writeTextFile(`${dir}/passwd`, `${USER}:{PLAIN}${PASSWORD}:65534:65534::${dir}/mail/${USER}\n`);
  const port = freePort();
  await Deno.writeTextFile(`${dir}/dovecot.conf`, config(dir, port));
  const child = new Deno.Command("/usr/sbin/dovecot", {
    args: ["-F", "-c", `${dir}/dovecot.conf`],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const errors = new Response(child.stderr).text();
  let exited = false;
  child.status.then(() => exited = true);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
    await errors.catch(() => undefined);
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  };
  let conn: Deno.Conn | undefined;
  const deadline = Date.now() + 30_000;
  while (!conn) {
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch {
      if (exited || Date.now() > deadline) {
        await stop();
        throw new Error(`Dovecot did not start: ${await errors}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const reader = new LineReader(conn);
  await reader.line(); // greeting
  let tag = 0;
  const command = async (text: string): Promise<Uint8Array> => {
    const t = `t${++tag}`;
    await conn.write(new TextEncoder().encode(`${t} ${text}\r\n`));
    try {
      return await reader.untilTagged(t);
    } catch (error) {
      const log = await Deno.readTextFile(`${dir}/dovecot.log`).catch(() => "");
      throw new Error(`${(error as Error).message} after ${text.slice(0, 200)}\n${log.slice(-2000)}`);
    }
  };
  const login = new TextDecoder().decode(await command(`LOGIN ${USER} ${PASSWORD}`));
  const select = new TextDecoder().decode(await command("SELECT INBOX"));
  if (!/^t\d+ OK/m.test(login) || !/^t\d+ OK/m.test(select)) {
    conn.close();
    await stop();
    throw new Error(`Dovecot login/select failed: ${login} ${select}`);
  }
  return {
    command,
    async stop() {
      try {
        conn.close();
      } catch { /* closed */ }
      await stop();
    },
  };
}

function config(dir: string, port: number): string {
  return `
protocols = imap
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
listen = 127.0.0.1
first_valid_uid = 1
mail_location = maildir:~/Maildir
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
    port = ${port}
  }
  inet_listener imaps {
    port = 0
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
}

/** Reads CRLF lines and literals from a connection. */
class LineReader {
  #buffer = new Uint8Array(0);
  constructor(private conn: Deno.Conn) {}

  async #more(): Promise<void> {
    const chunk = new Uint8Array(65536);
    const n = await this.conn.read(chunk);
    if (n === null) throw new Error("Dovecot closed the connection");
    const next = new Uint8Array(this.#buffer.length + n);
    next.set(this.#buffer);
    next.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = next;
  }

  /** The next line with its CRLF. */
  async line(): Promise<Uint8Array> {
    for (;;) {
      const lf = this.#buffer.indexOf(10);
      if (lf !== -1) return this.take(lf + 1);
      await this.#more();
    }
  }

  async take(n: number): Promise<Uint8Array> {
    while (this.#buffer.length < n) await this.#more();
    const out = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.slice(n);
    return out;
  }

  /** Lines (and the literals they announce) up to and including the line tagged `tag`. */
  async untilTagged(tag: string): Promise<Uint8Array> {
    const pieces: Uint8Array[] = [];
    for (;;) {
      const line = await this.line();
      pieces.push(line);
      const text = new TextDecoder("latin1").decode(line);
      const literal = /~?\{(\d+)\}\r\n$/.exec(text);
      if (literal) {
        pieces.push(await this.take(Number(literal[1])));
        continue;
      }
      if (text.startsWith(`${tag} `)) break;
    }
    const total = pieces.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of pieces) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
