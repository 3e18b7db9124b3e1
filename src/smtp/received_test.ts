import assert from "node:assert/strict";
import type { SMTPServerSession } from "smtp-server";
import { protocolKeyword, receivedHeader, sessionReceivedHeader } from "./received.ts";

Deno.test("the with keyword follows RFC 3848 and, for SMTPUTF8, RFC 6531", () => {
  const kind = { ehlo: true, tls: false, authenticated: false, utf8: false };
  assert.equal(protocolKeyword({ ...kind, ehlo: false }), "SMTP");
  assert.equal(protocolKeyword(kind), "ESMTP");
  assert.equal(protocolKeyword({ ...kind, tls: true }), "ESMTPS");
  assert.equal(protocolKeyword({ ...kind, authenticated: true }), "ESMTPA");
  assert.equal(protocolKeyword({ ...kind, tls: true, authenticated: true }), "ESMTPSA");
  assert.equal(protocolKeyword({ ...kind, utf8: true }), "UTF8SMTP");
  assert.equal(protocolKeyword({ ...kind, tls: true, utf8: true }), "UTF8SMTPS");
  assert.equal(protocolKeyword({ ...kind, authenticated: true, utf8: true }), "UTF8SMTPA");
  assert.equal(protocolKeyword({ ...kind, tls: true, authenticated: true, utf8: true }), "UTF8SMTPSA");
});

Deno.test("a Received field without a recipient names none, and client values cannot break the field", () => {
  const field = receivedHeader({
    helo: "evil\r\nX-Injected: yes (by x; for <y>)",
    remoteAddress: "2001:db8::7",
    hostname: "mail.example.org",
    protocol: "ESMTPSA",
    tls: { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" },
    id: "abc.1",
    date: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
  });
  assert.equal(
    field,
    "Received: from evil??X-Injected:?yes??by?x??for??y?? ([2001:db8::7])\r\n" +
      "\tby mail.example.org (Postern) with ESMTPSA\r\n" +
      "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n" +
      "\tid abc.1; Fri, 02 Jan 2026 03:04:05 +0000\r\n",
  );
  assert.match(
    receivedHeader({
      helo: "",
      remoteAddress: "192.0.2.1",
      hostname: "mx",
      protocol: "ESMTP",
      id: "1",
      recipient: "bob@example.org",
      date: new Date(0),
    }),
    /^Received: from unknown \(\[192\.0\.2\.1\]\)\r\n\tby mx \(Postern\) with ESMTP\r\n\tid 1\r\n\tfor <bob@example\.org>; /,
  );
});

Deno.test("a session's Received field takes its HELO, address, TLS and SMTPUTF8 from the session", () => {
  const session = {
    hostNameAppearsAs: "client.example",
    remoteAddress: "192.0.2.9",
    openingCommand: "EHLO",
    secure: true,
    tlsOptions: { version: "TLSv1.3", name: "TLS_AES_128_GCM_SHA256" },
    envelope: { smtpUtf8: true },
  } as unknown as SMTPServerSession;
  const date = new Date(Date.UTC(2026, 11, 8, 1, 2, 3));
  assert.equal(
    sessionReceivedHeader(session, {
      hostname: "mx.example.org",
      authenticated: false,
      id: "s.1",
      recipient: "a@b",
      date,
    }),
    "Received: from client.example ([192.0.2.9])\r\n\tby mx.example.org (Postern) with UTF8SMTPS\r\n" +
      "\t(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256)\r\n\tid s.1\r\n\tfor <a@b>; Tue, 08 Dec 2026 01:02:03 +0000\r\n",
  );
  const plain = {
    ...session,
    hostNameAppearsAs: undefined,
    secure: false,
    tlsOptions: undefined,
    openingCommand: "HELO",
    envelope: {},
  };
  assert.equal(
    sessionReceivedHeader(plain as unknown as SMTPServerSession, {
      hostname: "mx",
      authenticated: true,
      id: "2",
      date,
    }),
    "Received: from unknown ([192.0.2.9])\r\n\tby mx (Postern) with SMTPA\r\n\tid 2; Tue, 08 Dec 2026 01:02:03 +0000\r\n",
  );
});
