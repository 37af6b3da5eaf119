import assert from "node:assert/strict";
import { join } from "node:path";
import { heartbeatFile } from "../../lib/fleet/files.ts";
import { main } from "../../tools/report.ts";
import { parseDuration } from "../../tools/report_fleet.ts";
import { heartbeat, NOW_MS } from "./_fixtures.ts";

async function run(args: string[]): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const code = await main(args, (t) => out.push(t), () => new Date(NOW_MS));
  return { code, text: out.join("\n") };
}

Deno.test("report --fleet: prints the fleet of a remote; the date defaults to today; options take effect", async () => {
  const remote = await Deno.makeTempDir({ prefix: "fleet_cli_" });
  try {
    await Deno.mkdir(join(remote, "_fleet"));
    const hb = heartbeat(0, { atMs: NOW_MS - 10 * 60_000, symbols: { spot: ["BTCUSDT"] } });
    await Deno.writeTextFile(join(remote, heartbeatFile("s0")), JSON.stringify(hb));
    const today = await run(["--fleet", remote]);
    assert.equal(today.code, 0, today.text);
    assert.match(today.text, /^Fleet 2026-03-01 \(UTC\) at 12:00\nShards 1: 1 live\n/);
    const strict = await run(["--fleet", remote, "2026-02-28", "--silent-after", "5m"]);
    assert.match(
      strict.text,
      /^Fleet 2026-02-28 \(UTC\) at 12:00\nShards 1: 1 silent\n⚠️ Silent over 5m: s0\n/,
    );
  } finally {
    await Deno.remove(remote, { recursive: true });
  }
});

Deno.test("report --fleet: bad arguments exit 2 naming the problem, an unreadable remote exits 1", async () => {
  const cases: [string[], RegExp][] = [
    [["--fleet", "/x", "--kv", "k"], /^report: --kv does not go with --fleet\n/],
    [["--fleet", "/x", "--data-dir", "d"], /^report: --data-dir does not go with --fleet\n/],
    [["--top", "5"], /^report: --top needs --fleet\n/],
    [["--fleet", "/x", "--silent-after", "soon"], /^report: --silent-after: expected a duration such as 90s/],
    [["--fleet", "/x", "--top", "many"], /^report: --top: expected a count, got 'many'$/],
    [
      ["--fleet", "/x", "2026-02-30"],
      /^report: Cannot read date '2026-02-30': expected a UTC date YYYY-MM-DD$/,
    ],
    [["--fleet", ""], /^report: --fleet: the remote is empty$/],
  ];
  for (const [args, message] of cases) {
    const { code, text } = await run(args);
    assert.equal(code, 2, `${args.join(" ")}: ${text}`);
    assert.match(text, message);
  }
  const dir = await Deno.makeTempDir({ prefix: "fleet_cli_" });
  try {
    const missing = await run(["--fleet", join(dir, "nothing-here")]);
    assert.equal(missing.code, 1);
    assert.match(missing.text, /^report: Cannot read the fleet at .*nothing-here: rclone copy exited with 3/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseDuration(): seconds, minutes (also bare), hours", () => {
  assert.deepEqual(["90s", "15m", "15", "1.5h"].map(parseDuration), [90_000, 900_000, 900_000, 5_400_000]);
  for (const bad of ["", "0", "m", "5d", "-1m"]) assert.throws(() => parseDuration(bad), /--silent-after/);
});
