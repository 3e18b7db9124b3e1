import assert from "node:assert/strict";
import { Srs } from "./srs.ts";

const key = new Uint8Array(64).fill(7);
const day = 86_400_000;
const now = 20_000 * day + 3600_000;

Deno.test("SRS: a forwarded sender reverses to itself, without regard to case", () => {
  const srs = new Srs(key);
  const address = srs.forward("Ann.Smith@Origin.example", "fwd.example", now);
  assert.match(address, /^SRS0=[^=]{4}=[A-Z2-7]{2}=Origin\.example=Ann\.Smith@fwd\.example$/);
  const local = address.slice(0, address.lastIndexOf("@"));
  assert.deepEqual(srs.reverse(local, now + 5 * day), { ok: true, address: "Ann.Smith@Origin.example" });
  assert.deepEqual(srs.reverse(local.toLowerCase(), now), { ok: true, address: "ann.smith@origin.example" });
  assert.equal(srs.forward("", "fwd.example", now), "");
});

Deno.test("SRS: a changed, foreign-keyed, expired or malformed address is refused", () => {
  const srs = new Srs(key);
  const local = srs.forward("ann@origin.example", "fwd.example", now).split("@")[0];
  assert.deepEqual(srs.reverse(local.replace("=ann", "=bob"), now), { ok: false, reason: "badHash" });
  assert.deepEqual(new Srs(new Uint8Array(64)).reverse(local, now), { ok: false, reason: "badHash" });
  assert.deepEqual(srs.reverse(local, now + 22 * day), { ok: false, reason: "expired" });
  assert.deepEqual(srs.reverse("SRS0=abc=ann", now), { ok: false, reason: "malformed" });
  assert.deepEqual(srs.reverse("ann", now), { ok: false, reason: "malformed" });
});
