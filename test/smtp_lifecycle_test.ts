/**
 * The MX over a server's life: a message acknowledged with 250 survives SIGKILL sent the moment the
 * 250 arrives (the reply follows the commit), and so do messages of sessions acknowledged together; a shutdown ends idle sessions with 421 4.3.2; STARTTLS
 * with certificate files that are replaced while the server runs, the new one used by the next
 * session, and the TLS details in the Received field; the session limits (per-address connections,
 * command timeout, error count) each answered with their code.
 */
import assert from "node:assert/strict";
import { createUsers, mailCall, serverTarget } from "./mail_helpers.ts";
import { hasCommand, rawDialogue, skipping, smtpMessage, startMxProcess, subjects } from "./smtp_helpers.ts";
import { HAS_SWAKS, swaks } from "./smtp_helpers.ts";

/** Sends one message to alice and resolves with the DATA reply as soon as it arrives. */
async function sendUntilReply(port: number, subject: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const script =
    "EHLO client.test\r\nMAIL FROM:<sender@remote.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n";
  const data = smtpMessage(subject) + ".\r\n";
  let text = "";
  const buffer = new Uint8Array(4096);
  let sentData = false;
  try {
    // Commands before the greeting are refused ("You talk too soon").
    const greeting = await conn.read(buffer);
    if (greeting === null) return "";
    await conn.write(new TextEncoder().encode(script));
    for (let i = 0; i < 100; i++) {
      const n = await conn.read(buffer);
      if (n === null) return text;
      text += new TextDecoder().decode(buffer.subarray(0, n));
      if (!sentData && /^354 /m.test(text)) {
        sentData = true;
        await conn.write(new TextEncoder().encode(data));
      }
      const done = /^(250 2\.6\.0|[45]\d\d) [^\n]*\r\n$/m.exec(text.slice(text.indexOf("354 ")));
      if (sentData && done) return done[0];
    }
    return text;
  } finally {
    conn.close();
  }
}

Deno.test("a message acknowledged with 250 survives SIGKILL sent the moment the 250 arrives", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-mx-kill-" });
  try {
    let server = await startMxProcess(dataDir);
    const [alice] = await createUsers(serverTarget(server.url), ["alice"]);
    const acknowledged: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3 + round; i++) {
        const subject = `round ${round} message ${i}`;
        const reply = await sendUntilReply(server.smtpPort, subject);
        if (reply.startsWith("250 2.6.0")) acknowledged.push(subject);
        // The last message of a round: killed the moment its 250 arrived.
        if (i === 2 + round) server.kill("SIGKILL");
      }
      await server.status;
      server = await startMxProcess(dataDir);
      const stored = await subjects(server, alice);
      for (const subject of acknowledged) assert.ok(stored.includes(subject), `lost "${subject}"`);
      assert.ok(acknowledged.length > round * 3, `only ${acknowledged.length} acknowledged`);
    }
    await server.stop();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("messages acknowledged together from one group commit survive SIGKILL at the first 250", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-mx-kill-group-" });
  try {
    let server = await startMxProcess(dataDir);
    const [alice] = await createUsers(serverTarget(server.url), ["alice"]);
    const sent = Array.from({ length: 12 }, (_, i) => `together ${i}`);
    let killed = false;
    // Twelve sessions at once, so their messages share commits; killed when the first 250 arrives.
    const replies = await Promise.all(sent.map(async (subject) => {
      const reply = await sendUntilReply(server.smtpPort, subject);
      if (reply.startsWith("250 2.6.0") && !killed) {
        killed = true;
        server.kill("SIGKILL");
      }
      return reply;
    }));
    await server.status;
    const acknowledged = sent.filter((_, i) => replies[i].startsWith("250 2.6.0"));
    assert.ok(killed && acknowledged.length >= 1, replies.join("\n"));
    server = await startMxProcess(dataDir);
    const stored = await subjects(server, alice);
    for (const subject of acknowledged) assert.ok(stored.includes(subject), `lost "${subject}"`);
    // Nothing half-stored or stored twice: each stored message is one that was sent, once.
    assert.deepEqual(stored, [...new Set(stored)].filter((subject) => sent.includes(subject)));
    await server.stop();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a shutdown ends idle SMTP sessions with 421 4.3.2 and the server exits", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-mx-stop-" });
  try {
    const server = await startMxProcess(dataDir);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.smtpPort });
    const buffer = new Uint8Array(4096);
    let text = new TextDecoder().decode(buffer.subarray(0, await conn.read(buffer) ?? 0));
    await conn.write(new TextEncoder().encode("EHLO client.test\r\n"));
    while (!/^250 /m.test(text)) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    const stopping = server.stop();
    for (let i = 0; i < 50; i++) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    conn.close();
    await stopping;
    assert.match(text, /^421 4\.3\.2 /m, text);
    assert.equal(server.exitCode, 0, server.stderr());
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

const HAS_OPENSSL = await hasCommand("openssl");

/** A self-signed certificate for `name` written to `dir`. */
async function certificate(dir: string, name: string): Promise<void> {
  const { code } = await new Deno.Command("openssl", {
    args: ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${name}`]
      .concat(["-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`]),
    stdout: "null",
    stderr: "null",
  }).output();
  assert.equal(code, 0);
}

Deno.test({
  name: "STARTTLS uses the certificate files, re-read when replaced, and Received records the TLS",
  ignore: !(HAS_SWAKS && HAS_OPENSSL) && skipping("STARTTLS", HAS_SWAKS ? "openssl" : "swaks"),
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "postern-mx-tls-" });
    try {
      await certificate(dataDir, "first.example.org");
      const server = await startMxProcess(dataDir, {
        POSTERN_TLS_CERT: `${dataDir}/cert.pem`,
        POSTERN_TLS_KEY: `${dataDir}/key.pem`,
      });
      try {
        const [alice] = await createUsers(serverTarget(server.url), ["alice"]);
        assert.match(server.startup, /with STARTTLS/);
        const first = await swaks(server.smtpPort, [
          "--tls",
          "--from",
          "s@remote.test",
          "--to",
          "alice@example.org",
        ]);
        assert.equal(first.code, 0, first.transcript);
        assert.match(first.transcript, /peer DN="\/CN=first\.example\.org"/);
        await certificate(dataDir, "second.example.org");
        const second = await swaks(server.smtpPort, [
          "--tls",
          "--from",
          "s@remote.test",
          "--to",
          "alice@example.org",
        ]);
        assert.match(second.transcript, /peer DN="\/CN=second\.example\.org"/, second.transcript);
        const target = serverTarget(server.url);
        const { ids } = await mailCall(target, "Email/query", {}, alice);
        const { list } = await mailCall(target, "Email/get", { ids, properties: ["header:Received"] }, alice);
        const received = String((list as Record<string, string>[])[0]["header:Received"]).replace(
          /\s+/g,
          " ",
        );
        assert.match(received, /with ESMTPS \(using TLSv1\.[23] with cipher \S+\)/, received);
      } finally {
        await server.stop();
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test("session limits: per-address connections, command timeout, too many errors, DATA timeout", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-mx-limits-" });
  const server = await startMxProcess(dataDir, {
    POSTERN_SMTP_MAX_CONNECTIONS_PER_ADDRESS: "2",
    POSTERN_SMTP_COMMAND_TIMEOUT: "2",
    POSTERN_SMTP_MAX_ERRORS: "3",
    POSTERN_SMTP_DATA_TIMEOUT: "3",
  });
  try {
    const held = await Promise.all(
      [0, 1].map(() => Deno.connect({ hostname: "127.0.0.1", port: server.smtpPort })),
    );
    const third = await rawDialogue(server.smtpPort, []);
    assert.match(third, /^421 4\.7\.0 /m, third);
    for (const conn of held) conn.close();
    // A silent client is told 421 4.4.2 when the command timeout passes, then closed.
    const silent = await rawDialogue(server.smtpPort, ["EHLO client.test\r\n"], { quietMs: 15_000 });
    assert.match(silent, /^421 4\.4\.2 /m, silent);
    const errors = await rawDialogue(server.smtpPort, [
      "EHLO client.test\r\nMAIL FROM:<s@remote.test>\r\n",
      "RCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nRCPT TO:<d@example.org>\r\n",
    ]);
    assert.equal(errors.match(/^550 5\.1\.1 /gm)?.length, 2, errors);
    assert.match(errors, /^421 4\.7\.0 /m, errors);
    // DATA dripped a line every half second (never idle for the command timeout) ends at the DATA timeout.
    const [alice] = await createUsers(serverTarget(server.url), ["alice"]);
    const drip = await rawDialogue(server.smtpPort, [
      "EHLO client.test\r\nMAIL FROM:<s@remote.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n",
      ...Array.from({ length: 8 }, () => "Subject: slow\r\n"),
    ], { quietMs: 500, replyWaitMs: 500 });
    assert.match(drip, /^421 4\.4\.2 DATA took too long/m, drip);
    assert.deepEqual(await subjects(server, alice), []);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
