import assert from "node:assert/strict";
import { readForm } from "./params.ts";

const form = (body: string) =>
  readForm(
    new Request("http://127.0.0.1/auth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    }),
  );

Deno.test("a form body reads as URLSearchParams reads it, with or without anything to decode", async () => {
  const bodies = [
    "grant_type=refresh_token&refresh_token=AQIBAeCK09gG4KTx2QbH6-ztn3LPQOon3Ku3nIx7mWqB",
    "a=1&&b=&c&=x&d==y&e=2=3&",
    "?a=1&b=2",
    "a=%41%2b&b+c=d+e&f=%zz&g=%C3%A9",
    "redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&code=abc",
    "é=ü&x=日本",
  ];
  for (const body of bodies) {
    const params = await form(body);
    const expected = new URLSearchParams(body);
    for (const name of new Set([...expected.keys(), "absent"])) {
      const value = expected.get(name) ?? "";
      assert.equal(params.get(name), value === "" ? undefined : value, `${body}: ${name}`);
    }
  }
});

Deno.test("a form parameter sent twice is refused however the body is written", async () => {
  for (const body of ["a=1&a=2", "a=1&a=%32", "a=1&b=2&a=1"]) {
    const params = await form(body);
    assert.throws(() => params.get("a"), /sent more than once/);
  }
});
