/**
 * The inbound benchmark's latency probe: one SMTP connection to the MX sending one small message at
 * a time to the probe account, and that account's EventSource (types=Email); for each message, the
 * time from writing the end of DATA to the StateChange that follows it. A message whose event does
 * not come within two seconds is missed.
 */

const WAIT_MS = 2000;
const PAUSE_MS = 20;

/** A running probe. */
export class SmtpProbe {
  readonly latencies: number[] = [];
  missed = 0;
  #event?: () => void;
  #running = true;
  #loop?: Promise<void>;
  readonly #abort = new AbortController();

  private constructor(private readonly options: { smtpPort: number; url: string; auth: string }) {}

  /** Opens the EventSource and the SMTP connection and starts sending. */
  static async start(options: { smtpPort: number; url: string; auth: string }): Promise<SmtpProbe> {
    const probe = new SmtpProbe(options);
    await probe.#openStream();
    const smtp = await SmtpLine.connect(options.smtpPort);
    await smtp.expect("220");
    await smtp.command("EHLO probe.test", "250");
    probe.#loop = probe.#send(smtp);
    return probe;
  }

  /** Stops sending; what was measured. */
  async stop(): Promise<{ latencies: number[]; missed: number }> {
    this.#running = false;
    await this.#loop;
    this.#abort.abort();
    return { latencies: this.latencies, missed: this.missed };
  }

  async #send(smtp: SmtpLine): Promise<void> {
    try {
      for (let n = 0; this.#running; n++) {
        await smtp.command("MAIL FROM:<probe@sender.test>", "250");
        await smtp.command("RCPT TO:<probe@example.org>", "250");
        await smtp.command("DATA", "354");
        const event = new Promise<number>((resolve) => {
          const timer = setTimeout(() => resolve(NaN), WAIT_MS);
          this.#event = () => {
            clearTimeout(timer);
            resolve(performance.now());
          };
        });
        const sent = performance.now();
        await smtp.command(`Subject: probe ${n}\r\n\r\nProbe.\r\n.`, "250");
        const arrived = await event;
        this.#event = undefined;
        if (Number.isNaN(arrived)) this.missed++;
        else this.latencies.push(arrived - sent);
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      }
      await smtp.command("QUIT", "221");
    } finally {
      smtp.close();
    }
  }

  async #openStream(): Promise<void> {
    const response = await fetch(`${this.options.url}/jmap/eventsource/?types=Email&closeafter=no&ping=0`, {
      headers: { authorization: this.options.auth, accept: "text/event-stream" },
      signal: this.#abort.signal,
    });
    if (response.status !== 200 || !response.body) {
      throw new Error(`EventSource answered ${response.status}: ${await response.text()}`);
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      let buffer = "";
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (event.startsWith("event: state")) this.#event?.();
          }
        }
      } catch { /* aborted at the end */ }
    })();
  }
}

/** A line-at-a-time SMTP client connection. */
class SmtpLine {
  #buffer = "";
  readonly #decoder = new TextDecoder();
  private constructor(private readonly conn: Deno.Conn) {}

  static async connect(port: number): Promise<SmtpLine> {
    return new SmtpLine(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Reads one whole reply; throws unless it starts with `code`. */
  async expect(code: string): Promise<string> {
    const chunk = new Uint8Array(4096);
    for (;;) {
      const match = /(^|\r\n)(\d{3}) [^\r]*\r\n/.exec(this.#buffer);
      if (match) {
        const reply = this.#buffer.slice(0, match.index + match[0].length);
        this.#buffer = this.#buffer.slice(reply.length);
        if (match[2] !== code) throw new Error(`The MX answered ${reply.trim()} (expected ${code})`);
        return reply;
      }
      const n = await this.conn.read(chunk);
      if (n === null) throw new Error("The MX closed the probe's connection");
      this.#buffer += this.#decoder.decode(chunk.subarray(0, n));
    }
  }

  /** Sends `line` and its CRLF, then reads the reply. */
  async command(line: string, code: string): Promise<string> {
    let bytes = new TextEncoder().encode(line + "\r\n");
    while (bytes.length) bytes = bytes.subarray(await this.conn.write(bytes));
    return await this.expect(code);
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}
