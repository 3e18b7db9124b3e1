import assert from "node:assert/strict";
import { MtaStsError, mxMatchesPolicy, parsePolicy, parseStsTxt } from "./mta_sts_policy.ts";

Deno.test("the TXT record gives its id; other TXT records are ignored; none is no policy", () => {
  assert.equal(parseStsTxt(["v=STSv1; id=20160831085700Z;"]), "20160831085700Z");
  assert.equal(parseStsTxt(["v=spf1 -all", "v=STSv1;id=abc"]), "abc");
  assert.equal(parseStsTxt(["v=STSv1; id=abc; ext_1=x"]), "abc", "an extension field is allowed");
  assert.equal(parseStsTxt([]), null);
  assert.equal(parseStsTxt(["v=spf1 -all", "v=STSv10; id=1"]), null);
});

Deno.test("a malformed TXT record is refused as sts-policy-invalid", () => {
  for (
    const records of [
      ["v=STSv1; id=a", "v=STSv1; id=b"],
      ["v=STSv1"],
      ["v=STSv1; id="],
      ["v=STSv1; id=has-dash"],
      ["v=STSv1; id=" + "a".repeat(33)],
      ["v=STSv1; id=abc; noequals"],
      ["v=STSv1; id=abc; bad=semi=;"],
      ["v=STSv1; id=abc; =x"],
    ]
  ) {
    assert.throws(
      () => parseStsTxt(records),
      (e) => e instanceof MtaStsError && e.type === "sts-policy-invalid",
      JSON.stringify(records),
    );
  }
});

Deno.test("a policy file is parsed with LF or CRLF lines, unknown keys ignored, first value of a repeated key kept", () => {
  const text =
    "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.Example.NET\r\nmax_age: 604800\r\n";
  assert.deepEqual(parsePolicy(text, "id1"), {
    id: "id1",
    mode: "enforce",
    mx: ["mail.example.com", "*.example.net"],
    maxAge: 604800,
  });
  const other =
    "version: STSv1\nmode: testing\nmode: none\nfuture_key: anything goes\nmx: mx.example.org\nmax_age:86400";
  assert.deepEqual(parsePolicy(other, "x"), {
    id: "x",
    mode: "testing",
    mx: ["mx.example.org"],
    maxAge: 86400,
  });
  assert.deepEqual(parsePolicy("version: STSv1\nmode: none\nmax_age: 31557600\n", "y").mx, []);
});

Deno.test("every malformed policy is refused", () => {
  const good = {
    version: "version: STSv1",
    mode: "mode: enforce",
    mx: "mx: mx.example.org",
    age: "max_age: 604800",
  };
  const cases: Record<string, string> = {
    "no version": [good.mode, good.mx, good.age].join("\n"),
    "another version": ["version: STSv2", good.mode, good.mx, good.age].join("\n"),
    "no mode": [good.version, good.mx, good.age].join("\n"),
    "an unknown mode": [good.version, "mode: strict", good.mx, good.age].join("\n"),
    "no max_age": [good.version, good.mode, good.mx].join("\n"),
    "a negative max_age": [good.version, good.mode, good.mx, "max_age: -1"].join("\n"),
    "a max_age over a year": [good.version, good.mode, good.mx, "max_age: 31557601"].join("\n"),
    "an 11-digit max_age": [good.version, good.mode, good.mx, "max_age: 00000000001"].join("\n"),
    "a fractional max_age": [good.version, good.mode, good.mx, "max_age: 1.5"].join("\n"),
    "no mx in enforce": [good.version, good.mode, good.age].join("\n"),
    "no mx in testing": [good.version, "mode: testing", good.age].join("\n"),
    "an mx with a space": [good.version, good.mode, "mx: mx example.org", good.age].join("\n"),
    "an mx wildcard in the middle": [good.version, good.mode, "mx: mx.*.example.org", good.age].join("\n"),
    "a bare wildcard": [good.version, good.mode, "mx: *.org", good.age].join("\n"),
    "an mx label with an underscore": [good.version, good.mode, "mx: m_x.example.org", good.age].join("\n"),
    "a line without a colon": [good.version, good.mode, good.mx, good.age, "garbage"].join("\n"),
    "an empty line inside": [good.version, "", good.mode, good.mx, good.age].join("\n"),
    "an empty value": [good.version, good.mode, "mx:", good.age].join("\n"),
    "a control character": [good.version, good.mode, "mx: mx.example.org\u0007", good.age].join("\n"),
    "an HTML page": "<html><body>Not found</body></html>",
    "nothing": "",
  };
  for (const [name, text] of Object.entries(cases)) {
    assert.throws(
      () => parsePolicy(text, "id"),
      (e) => e instanceof MtaStsError && e.type === "sts-policy-invalid",
      name,
    );
  }
});

Deno.test("an MX host matches an exact pattern or a wildcard in one leftmost label only", () => {
  const policy = { mx: ["mail.example.com", "*.example.net"] };
  assert.ok(mxMatchesPolicy(policy, "mail.example.com"));
  assert.ok(mxMatchesPolicy(policy, "MAIL.Example.COM."), "case and a final dot do not matter");
  assert.ok(mxMatchesPolicy(policy, "mx1.example.net"));
  assert.ok(!mxMatchesPolicy(policy, "a.b.example.net"), "the wildcard is one label");
  assert.ok(!mxMatchesPolicy(policy, "example.net"), "the wildcard needs a label");
  assert.ok(!mxMatchesPolicy(policy, "other.example.com"));
  assert.ok(!mxMatchesPolicy(policy, "mail.example.com.evil.test"));
  assert.ok(!mxMatchesPolicy({ mx: [] }, "mail.example.com"));
});
