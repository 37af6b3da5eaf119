import assert from "node:assert/strict";
import { fmtBytes, fmtCount, fmtDuration, fmtPct, fmtSignedMs, fmtTime } from "../../lib/report/text.ts";

Deno.test("fmtCount() keeps three significant digits and never prints 1000 of a unit", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [999, "999"],
    [1000, "1.00k"],
    [1234, "1.23k"],
    [12_345, "12.3k"],
    [123_456, "123k"],
    [999_499, "999k"],
    [999_999, "1.00M"],
    [1_234_567, "1.23M"],
    [5e9, "5.00G"],
  ];
  for (const [n, want] of cases) assert.equal(fmtCount(n), want, String(n));
});

Deno.test("fmtBytes() uses binary units", () => {
  const cases: [number, string][] = [[0, "0 B"], [1023, "1023 B"], [1024, "1.00 KiB"], [1536, "1.50 KiB"], [
    58_500,
    "57.1 KiB",
  ], [5 * 1024 ** 3, "5.00 GiB"]];
  for (const [n, want] of cases) assert.equal(fmtBytes(n), want, String(n));
});

Deno.test("fmtDuration() shows the two largest units", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [7.25, "7.3s"],
    [59, "59s"],
    [60, "1m 0s"],
    [3599, "59m 59s"],
    [4340, "1h 12m"],
    [86_400 + 7200, "1d 2h"],
  ];
  for (const [s, want] of cases) assert.equal(fmtDuration(s), want, String(s));
});

Deno.test("fmtPct() rounds down so that only full coverage reads 100%", () => {
  assert.equal(fmtPct(100), "100%");
  assert.equal(fmtPct(99.9999), "99.99%");
  assert.equal(fmtPct(75), "75.00%");
  assert.equal(fmtPct(0), "0.00%");
});

Deno.test("fmtTime() and fmtSignedMs() format UTC times and signed offsets", () => {
  assert.equal(fmtTime(Date.UTC(2024, 0, 2, 3, 4, 5) * 1000 + 999), "03:04:05");
  assert.equal(fmtSignedMs(1.25), "+1.3");
  assert.equal(fmtSignedMs(-120), "-120.0");
  assert.equal(fmtSignedMs(0), "+0.0");
});
