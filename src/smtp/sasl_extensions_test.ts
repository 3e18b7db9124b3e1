import assert from "node:assert/strict";
import { parseOauthBearer } from "./sasl_extensions.ts";
import { authorizationOf } from "./submission_auth.ts";

Deno.test("OAUTHBEARER initial responses parse as RFC 7628 §4.1 and RFC 5801 write them", () => {
  // RFC 7628 §4.1, the example's initial client response.
  const example = "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01" +
    "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01";
  assert.deepEqual(parseOauthBearer(example), {
    user: "user@example.com",
    token: "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
  });
  assert.deepEqual(parseOauthBearer("n,,\x01auth=Bearer t0k\x01\x01"), { user: undefined, token: "t0k" });
  assert.equal(parseOauthBearer("n,a=x=2Cy=3Dz,\x01auth=Bearer t\x01\x01")?.user, "x,y=z");
  for (
    const bad of [
      "",
      "n,a=u,\x01auth=Bearer t\x01", // no final ^A
      "p=tls-unique,,\x01auth=Bearer t\x01\x01", // channel binding: not offered
      "n,a=u,\x01host=h\x01\x01", // no auth
      "n,a=u,\x01auth=Basic dTpw\x01\x01",
      "n,a=u,\x01auth=Bearer two words\x01\x01",
      "n,a=u,\x01novalue\x01\x01",
    ]
  ) {
    assert.equal(parseOauthBearer(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("SASL credentials become the Authorization value HTTP would take, or none", () => {
  const basic = (login: string, password: string) =>
    `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(`${login}:${password}`)))}`;
  assert.equal(authorizationOf({ method: "PLAIN", username: "alice", password: "pw" }), basic("alice", "pw"));
  assert.equal(
    authorizationOf({ method: "LOGIN", username: "zoë", password: "pässword" }),
    basic("zoë", "pässword"),
  );
  assert.equal(
    authorizationOf({
      method: "PLAIN",
      username: "alice",
      authzid: "ALICE",
      authcid: "alice",
      password: "p",
    }),
    basic("alice", "p"),
  );
  // Acting as another identity (authzid) is not offered; a ':' cannot travel in a Basic login.
  assert.equal(
    authorizationOf({ method: "PLAIN", username: "alice", authzid: "bob", authcid: "alice", password: "p" }),
    undefined,
  );
  assert.equal(authorizationOf({ method: "PLAIN", username: "a:b", password: "p" }), undefined);
  assert.equal(authorizationOf({ method: "XOAUTH2", username: "a", accessToken: "tok" }), "Bearer tok");
  assert.equal(authorizationOf({ method: "OAUTHBEARER", accessToken: "bad token" }), undefined);
  assert.equal(authorizationOf({ method: "CRAM-MD5", username: "a" }), undefined);
});

/** RFC 7628 §3.1's client response, built as a client library would (authzid escaped per RFC 5801). */
function encodeOauthBearer(user: string | undefined, token: string, extra: [string, string][]): string {
  const authzid = user === undefined ? "" : `a=${user.replace(/=/g, "=3D").replace(/,/g, "=2C")}`;
  const pairs = [...extra, ["auth", `Bearer ${token}`]].map(([k, v]) => `${k}=${v}\x01`).join("");
  return `n,${authzid},\x01${pairs}\x01`;
}

Deno.test("OAUTHBEARER: what an encoder writes parses back, and random input never throws", () => {
  const random = (alphabet: string, max: number) =>
    Array.from(
      { length: 1 + Math.floor(Math.random() * max) },
      () => alphabet[Math.floor(Math.random() * alphabet.length)],
    ).join("");
  const printable = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join("");
  for (let i = 0; i < 2000; i++) {
    const user = Math.random() < 0.2 ? undefined : random(printable + " ", 30);
    const token = random(printable, 60);
    const extra: [string, string][] = Math.random() < 0.5
      ? [["host", random("abc.example", 20)], ["port", String(Math.floor(Math.random() * 65536))]]
      : [];
    const encoded = encodeOauthBearer(user, token, extra);
    assert.deepEqual(parseOauthBearer(encoded), { user: user || undefined, token }, JSON.stringify(encoded));
  }
  const bytes = "\x00\x01\x02,=abn y\x7fa=auth=Bearer \u00e9";
  for (let i = 0; i < 5000; i++) {
    const input = random(bytes, 80);
    const parsed = parseOauthBearer(input);
    if (parsed) assert.ok(parsed.token.length > 0 && !/\s/.test(parsed.token), JSON.stringify(input));
  }
});
