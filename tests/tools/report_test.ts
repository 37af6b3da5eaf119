import assert from "node:assert/strict";
import { join } from "node:path";
import { openLedger } from "../../lib/ledger/open.ts";
import { defaultLedgerPath } from "../../lib/report/verify.ts";
import { main } from "../../tools/report.ts";
import { buildSampleLedger, DATE } from "../ledger/_sample_ledger.ts";

async function run(args: string[], now = new Date()): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const code = await main(args, (t) => out.push(t), () => now);
  return { code, text: out.join("\n") };
}

Deno.test("report: prints the day's coverage per stream with low hours, and every gap", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ledger = await openLedger(defaultLedgerPath(dir), { get: () => undefined });
    await buildSampleLedger(ledger);
    ledger.close();

    const { code, text } = await run([DATE, "--data-dir", dir]);
    assert.equal(code, 0, text);
    assert.match(text, /^Report 2024-01-02 \(UTC\)\nCoverage 71\.51%, 6\.65k msgs\n/);
    assert.ok(
      text.includes(
        "\n depth@100ms     83.33%   4.00k\n   01:00  83.33%  gap 10m 0s\n   02:00  83.33%  gap 10m 0s\n",
      ),
      text,
    );
    assert.match(text, /\nGaps\n/);
    assert.equal(
      text.split("\n").filter((l) => /^ {2}(sequence|disconnect|stale|backfilled) \d/.test(l)).length,
      8,
    );

    // The same through --kv, and the default date is today (UTC) from the injected clock.
    const viaKv = await run(["--kv", defaultLedgerPath(dir)], new Date(`${DATE}T23:59:59Z`));
    assert.equal(viaKv.text, text);
    const otherDay = await run(["2024-01-04", "--data-dir", dir]);
    assert.equal(otherDay.code, 0);
    // A day with nothing recorded says so (an unattended user must learn it), never "coverage 100%".
    assert.match(otherDay.text, /Nothing recorded on this day\n[^]*Gaps 0, 0 unrecovered\n/);
    assert.doesNotMatch(otherDay.text, /Coverage 100%/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report: no ledger exits 1 without creating one; bad arguments exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const none = await run([DATE, "--data-dir", dir]);
    assert.equal(none.code, 1);
    assert.match(none.text, /no ledger at/);
    await assert.rejects(Deno.stat(join(dir, "_state")), Deno.errors.NotFound);
    assert.equal((await run(["--bogus"])).code, 2);
    assert.equal((await run([DATE, DATE])).code, 2);
    const badDate = await run(["2024-13-01", "--kv", ":memory:"]);
    assert.equal(badDate.code, 2);
    assert.match(badDate.text, /expected a UTC date/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
