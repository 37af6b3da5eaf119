/**
 * The hourly compaction's merges in a child process each (merge_child.ts), not in the collector's Parquet
 * worker. A merge of a whole market's hour decodes and encodes its rows two or three times over; whatever
 * memory that takes (a fresh parquet-wasm and its compiled code, glibc's heap, V8's) stays with a worker's
 * process after the worker ends: in a two-hour run the collector went from ~330 to 529 MiB for the 11 minutes
 * of a full hour's compaction and stayed at 366–382 after it. A child gives all of it back when it exits, and a
 * merge the kernel kills for memory takes no rows being recorded with it.
 *
 * Starting a child needs the run permission for it: the compiled binary (`--merge-child`, main.ts) or Deno
 * (`deno run … merge_child.ts`). Without it, or if the child cannot start, merges run in the worker as before
 * and the collector says so once.
 * @module
 */

import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "../log.ts";
import { isTempFile } from "./atomic_file.ts";
import type { MergeRequest, MergeResult } from "./hour_merge.ts";
import type { MergeChildReply } from "./merge_child.ts";
import type { EncodedChunk, ParquetJobs, WrittenFile } from "./parquet_jobs.ts";
import type { RawChunk } from "./column_buffer.ts";
import type { SpilledSegment } from "./spill.ts";

/** The `start` task's V8 flags, for a child started with `deno run` (a compiled binary has them built in). */
const CHILD_V8_FLAGS = "--max-semi-space-size=4,--heap-growing-percent=50";

/** A command that starts a merge child. */
export interface MergeCommand {
  command: string;
  args: string[];
}

/** A merge child failed: exited non-zero (its message), was killed, or answered something else. */
export class MergeProcessError extends Error {
  constructor(readonly target: string, message: string) {
    super(`merge of ${target} in its own process failed: ${message}`);
    this.name = "MergeProcessError";
  }
}

/**
 * How this process starts a merge child that may write in `dataDir`, or why it cannot (no run permission for
 * it): the compiled binary runs itself with `--merge-child`; under `deno run`, Deno runs merge_child.ts with
 * the project's config, found by the path Deno runs from, or by name (`--allow-run=deno`).
 */
export function mergeCommand(dataDir: string): MergeCommand | string {
  let candidates: MergeCommand[];
  if (Deno.build.standalone) {
    candidates = [{ command: Deno.execPath(), args: ["--merge-child"] }];
  } else {
    const args = [
      "run",
      "--no-prompt",
      // parquet-wasm reads its .wasm from Deno's npm cache.
      "--allow-read",
      `--allow-write=${dataDir}`,
      "--allow-sys=setPriority",
      `--v8-flags=${CHILD_V8_FLAGS}`,
      `--config=${fileURLToPath(new URL("../../deno.json", import.meta.url))}`,
      fileURLToPath(new URL("./merge_child.ts", import.meta.url)),
    ];
    candidates = [{ command: Deno.execPath(), args }, { command: "deno", args }];
  }
  const granted = candidates.find((c) =>
    Deno.permissions.querySync({ name: "run", command: c.command }).state === "granted"
  );
  return granted ?? `no run permission for ${candidates[0]!.command}`;
}

/** Options of {@link MergeProcesses}. */
export interface MergeProcessOptions {
  /** Where the merged files go (the child may write there only). */
  dataDir: string;
  /** Encodes and writes (always), and merges where no child can run. */
  worker: ParquetJobs;
  log?: Logger;
  /** @default mergeCommand(dataDir) */
  command?: MergeCommand | string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The Parquet jobs of the app: encoding and file writes in the worker, merges in a child process each (see the
 * module doc). {@link close} kills the children still merging (their temp files are removed at the next start).
 */
export class MergeProcesses implements ParquetJobs {
  readonly #worker: ParquetJobs;
  readonly #log?: Logger;
  readonly #dataDir: string;
  #command: MergeCommand | string;
  readonly #children = new Set<Deno.ChildProcess>();
  #closed = false;

  constructor(options: MergeProcessOptions) {
    this.#worker = options.worker;
    this.#log = options.log;
    this.#dataDir = options.dataDir;
    this.#command = options.command ?? mergeCommand(options.dataDir);
    if (typeof this.#command === "string") this.#inWorker(this.#command);
  }

  /** Whether merges run in child processes (else in the worker). */
  get inProcesses(): boolean {
    return typeof this.#command !== "string";
  }

  encodeChunk(chunk: RawChunk, spill: string): Promise<EncodedChunk> {
    return this.#worker.encodeChunk(chunk, spill);
  }

  writeFile(path: string, segments: readonly SpilledSegment[]): Promise<WrittenFile> {
    return this.#worker.writeFile(path, segments);
  }

  async merge(req: MergeRequest): Promise<MergeResult> {
    if (this.#closed) throw new MergeProcessError(req.target, "the collector is stopping");
    const command = this.#command;
    if (typeof command === "string") return await this.#worker.merge(req);
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command.command, {
        args: command.args,
        // Deno's own errors (a module that fails to load) without colour codes, for the log line.
        env: { NO_COLOR: "1" },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (err) {
      this.#command = `cannot start ${command.command}: ${err instanceof Error ? err.message : String(err)}`;
      this.#inWorker(this.#command);
      return await this.#worker.merge(req);
    }
    this.#children.add(child);
    const started = performance.now();
    try {
      // The request is one line; stdin then stays open while the child works: if this process dies (kill -9),
      // the child reads its end and exits instead of finishing a merge no one will list.
      const stdin = child.stdin.getWriter();
      await stdin.write(encoder.encode(JSON.stringify(req) + "\n"));
      const [stdout, stderr, status] = await Promise.all([
        new Response(child.stdout).bytes(),
        new Response(child.stderr).bytes(),
        child.status,
      ]);
      await stdin.close().catch(() => {});
      if (!status.success) {
        // The child's error message, or Deno's first line if it failed before it ran.
        const why = decoder.decode(stderr).trim().split("\n")[0] ||
          `exit code ${status.code}${status.signal ? `, signal ${status.signal}` : ""}`;
        throw new MergeProcessError(req.target, why);
      }
      const reply = JSON.parse(decoder.decode(stdout)) as MergeChildReply;
      this.#log?.("info", "merged in a child process", {
        target: req.target.replace(`${this.#dataDir}/`, ""),
        pid: child.pid,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        peakRssMib: Math.round(reply.peakRssBytes / 1048576),
      });
      return reply.merged;
    } catch (err) {
      // A child killed half-way leaves its temp files beside the target (the rows are still in the sources).
      await removeTempsOf(req.target);
      throw err instanceof MergeProcessError ? err : new MergeProcessError(req.target, String(err));
    } finally {
      this.#children.delete(child);
    }
  }

  /** Kills the children still merging; later merges are refused. */
  close(): void {
    this.#closed = true;
    for (const child of this.#children) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Exited already.
      }
    }
  }

  #inWorker(why: string): void {
    this.#log?.("warn", "compaction merges in the Parquet worker, not in a process of its own", { why });
  }
}

/** Removes the temp files a merge into `target` may have left (the target's name with a temp suffix). */
async function removeTempsOf(target: string): Promise<void> {
  const name = basename(target);
  try {
    for await (const e of Deno.readDir(dirname(target))) {
      if (e.name.startsWith(name) && isTempFile(e.name)) {
        await Deno.remove(join(dirname(target), e.name)).catch(() => {});
      }
    }
  } catch {
    // No directory: nothing was written.
  }
}
