/**
 * The compaction's merges in a child process each (lib/storage/merge_process.ts): the same file as a merge in
 * the calling thread, the child's error when it fails, nothing left when it is killed, and the worker when no
 * child can run. `main.ts --merge-child` (the compiled binary's child) answers the same protocol.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeChunk } from "../../lib/storage/chunk_encoder.ts";
import { ColumnBuffer } from "../../lib/storage/column_buffer.ts";
import { mergeParquetFiles, type MergeRequest } from "../../lib/storage/hour_merge.ts";
import type { MergeChildReply } from "../../lib/storage/merge_child.ts";
import { MergeProcessError, MergeProcesses } from "../../lib/storage/merge_process.ts";
import type { MergeSource } from "../../lib/storage/merge_source.ts";
import { inlineJobs, type ParquetJobs } from "../../lib/storage/parquet_jobs.ts";
import type { Row } from "../../lib/storage/tables.ts";
import type { Level } from "../../lib/log.ts";
import { withTempDir } from "../temp_dir.ts";

const T0 = 1_767_607_200_000_000;
const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const CHILD = fileURLToPath(new URL("../../lib/storage/merge_child.ts", import.meta.url));

function trade(symbol: string, i: number): Row<"trades"> {
  return {
    symbol,
    exchange_time: T0 + i,
    trade_time: T0 + i,
    local_time: T0 + i,
    agg_trade_id: i,
    first_trade_id: i,
    last_trade_id: i,
    price: 100 + i / 8,
    quantity: i / 1000,
    is_buyer_maker: i % 3 === 0,
    source: "ws",
  };
}

/** Three part files of trades, symbols interleaved, in `dir`. */
async function sources(dir: string): Promise<MergeSource[]> {
  const out: MergeSource[] = [];
  let id = 0;
  for (const name of ["a.parquet", "b.parquet", "c.parquet"]) {
    const b = new ColumnBuffer("trades");
    for (let k = 0; k < 400; k++) b.append(trade(["ETHUSDT", "BTCUSDT", "SOLUSDT"][id % 3]!, id++));
    const bytes = (await encodeChunk(b.detach(), { minBytes: 2000, maxBytes: 1 << 20 })).segment;
    const path = join(dir, name);
    await Deno.writeFile(path, bytes);
    out.push({
      path,
      bytes: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      rows: 400,
    });
  }
  return out;
}

/** Log lines kept for the assertions. */
function logLines() {
  const lines: { level: Level; message: string; fields?: Record<string, unknown> }[] = [];
  return {
    lines,
    log: (level: Level, message: string, fields?: Record<string, unknown>) =>
      void lines.push({ level, message, fields }),
  };
}

/** A worker stand-in that counts the merges it was given and runs them in this thread. */
function countingWorker(): ParquetJobs & { merges: number } {
  const jobs = { ...inlineJobs, merges: 0 };
  jobs.merge = (req) => {
    jobs.merges++;
    return inlineJobs.merge(req);
  };
  return jobs;
}

const tempsIn = (dir: string) =>
  [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes(".tmp-"));

Deno.test("MergeProcesses: a merge in a child process writes the file a merge in this thread writes", () =>
  withTempDir(async (dir) => {
    const srcs = await sources(dir);
    const { lines, log } = logLines();
    const worker = countingWorker();
    const merges = new MergeProcesses({ dataDir: dir, worker, log });
    assert.ok(merges.inProcesses, "the test task grants --allow-run");
    const viaChild = await merges.merge({
      table: "trades",
      sources: srcs,
      target: join(dir, "child.parquet"),
    });
    const here = await mergeParquetFiles({
      table: "trades",
      sources: srcs,
      target: join(dir, "here.parquet"),
    });
    assert.equal(worker.merges, 0, "not in the worker");
    assert.deepEqual(viaChild, here);
    assert.deepEqual(
      await Deno.readFile(join(dir, "child.parquet")),
      await Deno.readFile(join(dir, "here.parquet")),
    );
    const line = lines.find((l) => l.message === "merged in a child process")!;
    assert.equal(line.fields!.target, "child.parquet");
    assert.notEqual(line.fields!.pid, Deno.pid);
    assert.ok((line.fields!.peakRssMib as number) > 0);
  }));

Deno.test("MergeProcesses: a failed child's error is the merge's, and nothing is written", () =>
  withTempDir(async (dir) => {
    const srcs = await sources(dir);
    srcs[1] = { ...srcs[1]!, sha256: "0".repeat(64) };
    const merges = new MergeProcesses({ dataDir: dir, worker: countingWorker() });
    const target = join(dir, "hour.parquet");
    await assert.rejects(
      merges.merge({ table: "trades", sources: srcs, target }),
      (err: Error) =>
        err instanceof MergeProcessError &&
        /b\.parquet does not match its manifest checksum/.test(err.message),
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "a.parquet",
      "b.parquet",
      "c.parquet",
    ]);
  }));

/** Two files of 400,000 rows each: enough that a child is still merging when it is stopped. */
async function bigSources(dir: string): Promise<MergeSource[]> {
  const b = new ColumnBuffer("trades");
  for (let i = 0; i < 400_000; i++) b.append(trade(`S${i % 500}USDT`, i));
  const bytes = (await encodeChunk(b.detach(), { minBytes: 2000, maxBytes: 1 << 20 })).segment;
  const srcs: MergeSource[] = [];
  for (const name of ["a.parquet", "b.parquet"]) {
    await Deno.writeFile(join(dir, name), bytes);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    srcs.push({ path: join(dir, name), bytes: bytes.length, sha256, rows: 400_000 });
  }
  return srcs;
}

/** Starts `deno run … args` with the request as its first line of stdin, which is left open. */
async function startChild(args: string[], request: MergeRequest) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();
  await stdin.write(new TextEncoder().encode(JSON.stringify(request) + "\n"));
  return { child, stdin };
}

Deno.test("MergeProcesses: close() kills a child merging; its temp files are removed", () =>
  withTempDir(async (dir) => {
    const srcs = await bigSources(dir);
    const merges = new MergeProcesses({ dataDir: dir, worker: countingWorker() });
    const target = join(dir, "hour.parquet");
    const merging = merges.merge({ table: "trades", sources: srcs, target });
    // Killed once the child has begun writing (a temp file beside the target).
    for (let i = 0; i < 600 && tempsIn(dir).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.notDeepEqual(tempsIn(dir), [], "the child was writing");
    merges.close();
    await assert.rejects(merging, MergeProcessError);
    assert.deepEqual(tempsIn(dir), []);
    assert.equal(await Deno.stat(target).then(() => true, () => false), false);
    await assert.rejects(merges.merge({ table: "trades", sources: srcs, target }), /stopping/);
  }));

Deno.test("MergeProcesses: without a child (no permission, or it cannot start) merges run in the worker", () =>
  withTempDir(async (dir) => {
    const srcs = await sources(dir);
    for (
      const command of ["no run permission for deno", { command: join(dir, "no-such-binary"), args: [] }]
    ) {
      const { lines, log } = logLines();
      const worker = countingWorker();
      const merges = new MergeProcesses({ dataDir: dir, worker, log, command });
      const target = join(dir, `hour-${worker.merges}-${typeof command}.parquet`);
      assert.equal((await merges.merge({ table: "trades", sources: srcs, target })).rows, 1200);
      assert.equal(worker.merges, 1);
      assert.equal(merges.inProcesses, false);
      const warn = lines.find((l) => l.level === "warn")!;
      assert.match(warn.message, /merges in the Parquet worker/);
      assert.match(
        String(warn.fields!.why),
        typeof command === "string" ? /no run permission/ : /cannot start/,
      );
    }
  }));

Deno.test("main.ts --merge-child (the compiled binary's merge child) merges a request from stdin", () =>
  withTempDir(async (dir) => {
    const srcs = await sources(dir);
    const request: MergeRequest = { table: "trades", sources: srcs, target: join(dir, "hour.parquet") };
    // The permissions of the compiled binary (main.ts loads the whole app before it sees the flag).
    const { child, stdin } = await startChild(["--allow-all", MAIN, "--merge-child"], request);
    const [stdout, stderr, status] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.status,
    ]);
    await stdin.close();
    assert.ok(status.success, stderr);
    const reply = JSON.parse(stdout) as MergeChildReply;
    assert.equal(reply.merged.rows, 1200);
    assert.equal(
      reply.merged.sha256,
      createHash("sha256").update(await Deno.readFile(request.target)).digest("hex"),
    );
  }));

Deno.test("merge child: the end of its stdin (the collector killed) stops it before it writes the target", () =>
  withTempDir(async (dir) => {
    const srcs = await bigSources(dir);
    const request: MergeRequest = { table: "trades", sources: srcs, target: join(dir, "hour.parquet") };
    const { child, stdin } = await startChild(["--allow-read", `--allow-write=${dir}`, CHILD], request);
    // Once it is merging (a temp file beside the target), its parent "dies": stdin ends.
    for (let i = 0; i < 600 && tempsIn(dir).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.notDeepEqual(tempsIn(dir), [], "the child was writing");
    await stdin.close();
    const [stdout, , status] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.status,
    ]);
    assert.equal(status.code, 2);
    assert.equal(stdout, "");
    assert.equal(await Deno.stat(request.target).then(() => true, () => false), false);
  }));
