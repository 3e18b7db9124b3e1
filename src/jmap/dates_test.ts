import assert from "node:assert/strict";
import { readDate, readUtcDate, utcDate } from "./dates.ts";

Deno.test("UTCDate: Z only, fractions allowed, real calendar dates only", () => {
  assert.equal(readUtcDate("2026-12-06T10:00:00Z"), Date.UTC(2026, 11, 6, 10));
  assert.equal(readUtcDate("2026-12-06T10:00:00.250Z"), Date.UTC(2026, 11, 6, 10, 0, 0, 250));
  assert.equal(readUtcDate("2028-02-29T00:00:00Z"), Date.UTC(2028, 1, 29));
  for (
    const bad of [
      "2026-02-30T10:00:00Z",
      "2026-13-01T10:00:00Z",
      "2026-12-06T10:00:00+01:00",
      "2026-12-06",
      5,
      null,
    ]
  ) {
    assert.equal(readUtcDate(bad), undefined, String(bad));
  }
  assert.equal(utcDate(Date.UTC(2026, 11, 6, 10)), "2026-12-06T10:00:00Z");
  assert.equal(utcDate(Date.UTC(2026, 11, 6, 10, 0, 0, 5)), "2026-12-06T10:00:00.005Z");
});

Deno.test("Date: any offset, the calendar date checked where it was written", () => {
  assert.equal(readDate("2026-12-06T10:00:00+01:00"), Date.UTC(2026, 11, 6, 9));
  assert.equal(readDate("2026-12-31T23:30:00-02:00"), Date.UTC(2027, 0, 1, 1, 30));
  assert.equal(readDate("2026-03-01T00:30:00+02:00"), Date.UTC(2026, 1, 28, 22, 30));
  assert.equal(readDate("2026-12-06t10:00:00z"), Date.UTC(2026, 11, 6, 10));
  for (
    const bad of ["2026-02-29T10:00:00+01:00", "2026-12-06T10:00+01:00", "Sun, 6 Dec 2026 10:00:00 +0000"]
  ) {
    assert.equal(readDate(bad), undefined, bad);
  }
});
