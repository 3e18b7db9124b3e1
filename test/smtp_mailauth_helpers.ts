/**
 * Helpers of the mail authentication tests: a DKIM key pair with its DNS record, messages signed
 * with mailauth's dkimSign, sending through the MX with nodemailer's SMTP client (the reply code of a
 * refusal is kept), and reading what was stored (mailbox, Authentication-Results, raw bytes).
 */
import { dkimSign } from "mailauth";
import { generateKeyPairSync } from "node:crypto";
import nodemailer from "nodemailer";
import { mailboxesByName, mailCall, type Obj, serverTarget, type Target, type Who } from "./mail_helpers.ts";

/** An RSA key for DKIM: the PEM private key and the TXT record of its public half (RFC 6376 §3.6.1). */
export function dkimKey(): { privateKey: string; record: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const spki = publicKey.export({ type: "spki", format: "der" });
  return {
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    record: `v=DKIM1; k=rsa; p=${spki.toString("base64")}`,
  };
}

/** A small message from `from` with CRLF line ends and a unique Message-ID. */
export function message(
  from: string,
  subject: string,
  options: { extra?: string; body?: string } = {},
): string {
  return `From: <${from}>\r\nTo: <alice@example.org>\r\nSubject: ${subject}\r\n` +
    `Date: ${new Date().toUTCString()}\r\nMessage-ID: <${crypto.randomUUID()}@mailauth.test>\r\n` +
    (options.extra ?? "") + `\r\n${options.body ?? "Hello there.\r\nA second line.\r\n"}`;
}

/** `text` with a DKIM-Signature of `domain` (selector `selector`) on top. */
export async function signed(
  text: string,
  domain: string,
  selector: string,
  privateKey: string,
): Promise<string> {
  const { signatures, errors } = await dkimSign(
    text,
    {
      signatureData: [{ signingDomain: domain, selector, privateKey }],
    } as Parameters<typeof dkimSign>[1],
  );
  if (errors?.length || !signatures) throw new Error(`dkimSign made no signature: ${JSON.stringify(errors)}`);
  return signatures + text;
}

/** What the MX answered: the code and text of the final reply (250 for an accepted message). */
export interface Sent {
  code: number;
  response: string;
}

/** Sends `raw` through the MX on `port` from 127.0.0.1 as `helo`, with the given envelope. */
export async function send(
  port: number,
  envelope: { from: string; to: string[] },
  raw: string,
  helo = "client.good.test",
): Promise<Sent> {
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port,
    secure: false,
    ignoreTLS: true,
    name: helo,
    connectionTimeout: 60_000,
    socketTimeout: 120_000,
  });
  try {
    const info = await transport.sendMail({ envelope, raw });
    return { code: Number(String(info.response).slice(0, 3)), response: String(info.response) };
  } catch (error) {
    const e = error as { responseCode?: number; response?: string; message: string };
    if (!e.responseCode) throw error;
    return { code: e.responseCode, response: e.response ?? e.message };
  } finally {
    transport.close();
  }
}

/** One stored email: the name of its mailbox, its Authentication-Results fields and its raw bytes. */
export interface Stored {
  mailbox: string;
  authenticationResults: string[];
  /** The header field names from the top, lower-cased, up to Received. */
  topFields: string[];
  raw: string;
}

/** The email of `who` whose subject is `subject`, if any. */
export async function storedEmail(url: string, who: Who, subject: string): Promise<Stored | undefined> {
  const target: Target = serverTarget(url);
  const { ids } = await mailCall(target, "Email/query", {}, who);
  if (!(ids as string[]).length) return undefined;
  const { list } = await mailCall(target, "Email/get", {
    ids,
    properties: ["subject", "mailboxIds", "blobId", "header:Authentication-Results:asText:all"],
  }, who);
  const email = (list as Obj[]).find((e) => e.subject === subject);
  if (!email) return undefined;
  const boxes = await mailboxesByName(target, who);
  const mailbox = Object.values(boxes).find((m) => (email.mailboxIds as Obj)[m.id as string]);
  const download = await target.fetch(`/jmap/download/${who.accountId}/${email.blobId}/m.eml`, {
    headers: { authorization: who.auth },
  });
  const raw = await download.text();
  const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
  const names = head.split(/\r\n(?![ \t])/).map((f) => f.slice(0, f.indexOf(":")).toLowerCase());
  return {
    mailbox: String(mailbox?.name),
    authenticationResults: email["header:Authentication-Results:asText:all"] as string[],
    topFields: names.slice(0, names.indexOf("received") + 1),
    raw,
  };
}
