import assert from "node:assert/strict";
import { DailyLogFile, logFileName } from "../lib/log_file.ts";
import { consoleLogger } from "../lib/log.ts";
import { withTempDir } from "./temp_dir.ts";

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 0, 20, 23, 59, 59);

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("logFileName() names the UTC day", () => {
  assert.equal(logFileName(T0), "collector-2026-01-20.log");
  assert.equal(logFileName(T0 + 1000), "collector-2026-01-21.log");
});

Deno.test("DailyLogFile appends lines to the day's file and goes on in the next day's file", async () => {
  await withTempDir(async (dir) => {
    let now = T0;
    const logs = `${dir}/logs`; // created on the first write
    const file = new DailyLogFile({ dir: logs, retentionDays: 14, nowMs: () => now });
    file.write("one");
    file.write("two");
    now += 1000; // past midnight
    file.write("three");
    await file.close();
    file.write("after close");
    assert.equal(await Deno.readTextFile(`${logs}/collector-2026-01-20.log`), "one\ntwo\n");
    assert.equal(await Deno.readTextFile(`${logs}/collector-2026-01-21.log`), "three\n");

    // A restart appends to the day's file.
    const again = new DailyLogFile({ dir: logs, retentionDays: 14, nowMs: () => now });
    again.write("four");
    await again.close();
    assert.equal(await Deno.readTextFile(`${logs}/collector-2026-01-21.log`), "three\nfour\n");
  });
});

Deno.test("DailyLogFile deletes its files older than the retention, and nothing else", async () => {
  await withTempDir(async (dir) => {
    const old = ["collector-2026-01-01.log", "collector-2026-01-06.log"];
    const kept = [
      "collector-2026-01-07.log",
      "collector-2026-01-19.log",
      "collector-notaday.log",
      "clock.jsonl",
    ];
    for (const n of [...old, ...kept]) await Deno.writeTextFile(`${dir}/${n}`, "x\n");
    await Deno.mkdir(`${dir}/collector-2025-01-01.log`); // not a file: left alone
    const now = T0; // 2026-01-20: with 14 days, 01-07 .. 01-20 stay
    const file = new DailyLogFile({ dir, retentionDays: 14, nowMs: () => now });
    file.write("today");
    await file.close();
    assert.deepEqual(
      await names(dir),
      [...kept, "collector-2025-01-01.log", "collector-2026-01-20.log"].sort(),
    );

    // 0 keeps every file.
    await Deno.writeTextFile(`${dir}/collector-2020-01-01.log`, "x\n");
    const forever = new DailyLogFile({ dir, retentionDays: 0, nowMs: () => now + DAY_MS });
    forever.write("tomorrow");
    await forever.close();
    assert.ok((await names(dir)).includes("collector-2020-01-01.log"));
  });
});

Deno.test("a failing log disk is reported once, never throws, and writing resumes when it recovers", async () => {
  await withTempDir(async (dir) => {
    const logs = `${dir}/logs`;
    await Deno.writeTextFile(logs, "a file where the log directory should be\n");
    const reports: string[] = [];
    const file = new DailyLogFile({ dir: logs, retentionDays: 14, report: (m) => reports.push(m) });
    const log = consoleLogger({ also: file });
    const stderr = console.error;
    const printed: string[] = [];
    console.error = (line: string) => printed.push(line);
    try {
      for (let i = 0; i < 50; i++) {
        log("info", "line", { i });
        await new Promise((r) => setTimeout(r, 0)); // let the writer try each time
      }
    } finally {
      console.error = stderr;
    }
    assert.equal(printed.length, 50, "every line still reaches stderr");
    assert.equal(reports.length, 1, reports.join("\n"));
    assert.match(
      reports[0]!,
      /^cannot write log file .*logs\/collector-\d{4}-\d{2}-\d{2}\.log: .*; logging to stderr only$/,
    );

    await Deno.remove(logs);
    file.write("back");
    await file.close();
    assert.equal(reports.length, 2);
    assert.match(reports[1]!, /is writable again$/);
    const [name] = await names(logs);
    assert.equal(await Deno.readTextFile(`${logs}/${name}`), "back\n");
  });
});

Deno.test("lines beyond the queue bound are dropped and counted in the file", async () => {
  await withTempDir(async (dir) => {
    const file = new DailyLogFile({ dir, retentionDays: 14, nowMs: () => T0, maxQueuedLines: 3 });
    // Written back to back: the first line is already being written, the next 3 wait, the other 6 are dropped.
    for (let i = 0; i < 10; i++) file.write(`line ${i}`);
    await file.close();
    assert.deepEqual((await Deno.readTextFile(`${dir}/collector-2026-01-20.log`)).split("\n"), [
      "line 0",
      "2026-01-20T23:59:59.000Z WARN  6 log lines were not written to this file (the log disk was too slow)",
      "line 1",
      "line 2",
      "line 3",
      "",
    ]);
  });
});
