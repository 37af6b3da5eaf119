/**
 * A temp directory with a data dir, a manifest, an rclone config whose `testremote` is a local directory, and
 * helpers to add Parquet-named files and fake rclone binaries (shell scripts in front of the real one).
 */
import { dirname, join } from "node:path";
import { Rclone, type RcloneOptions, remoteRoot } from "../../lib/cloud/rclone.ts";
import { compactedFileName, parquetFileName, utcDate } from "../../lib/storage/layout.ts";
import { isoMicros, Manifest, type ManifestEntry, sha256Hex } from "../../lib/storage/manifest.ts";
import type { TableName } from "../../lib/storage/tables.ts";

/** 2026-03-01 07:00 UTC, µs. */
export const H7 = Date.UTC(2026, 2, 1, 7) * 1000;
export const HOUR_US = 3_600_000_000;

/** A file to add: its time range, name kind, table (its partition), row count and size. */
export interface FileSpec {
  /** Start of the file's first row, µs. */
  firstUs: number;
  /** Last row, µs. @default firstUs + 1 s */
  lastUs?: number;
  /** Given: a compacted `hour-` name with this 8-hex-digit tag; absent: a `part-` name with `seq`. */
  tag?: string;
  /** @default 0 */
  seq?: number;
  /** @default "trades" */
  table?: TableName;
  rows?: number;
  size?: number;
}

export interface CloudEnv extends AsyncDisposable {
  dir: string;
  dataDir: string;
  remoteDir: string;
  configPath: string;
  /** `testremote:{remoteDir}`. */
  root: string;
  manifest: Manifest;
  /** Real rclone with the test config. */
  rclone(options?: RcloneOptions): Rclone;
  /** Writes random bytes under a layout path, lists it in the manifest (saved), and returns the entry. */
  addFile(spec: FileSpec): Promise<ManifestEntry>;
  /** Writes an executable script and returns its path. */
  script(name: string, body: string): Promise<string>;
  /** The bytes of a file on the remote, or null. */
  remoteBytes(relPath: string): Promise<Uint8Array | null>;
}

export async function cloudEnv(): Promise<CloudEnv> {
  const dir = await Deno.makeTempDir({ prefix: "cloud_" });
  const dataDir = join(dir, "data");
  const remoteDir = join(dir, "remote");
  const configPath = join(dir, "rclone.conf");
  await Deno.mkdir(dataDir, { recursive: true });
  await Deno.mkdir(remoteDir, { recursive: true });
  await Deno.writeTextFile(configPath, "[testremote]\ntype = local\n");
  const manifest = await Manifest.load(dataDir);
  return {
    dir,
    dataDir,
    remoteDir,
    configPath,
    root: remoteRoot("testremote", remoteDir),
    manifest,
    rclone: (options) => new Rclone({ configPath, ...options }),
    async addFile(spec) {
      const { firstUs, lastUs = firstUs + 1_000_000, table = "trades", rows = 10, size = 4096 } = spec;
      const name = spec.tag !== undefined
        ? compactedFileName(firstUs, spec.tag)
        : parquetFileName(firstUs, spec.seq ?? 0);
      const path = `spot/${table}/date=${utcDate(firstUs)}/${name}`;
      const bytes = crypto.getRandomValues(new Uint8Array(size));
      await Deno.mkdir(join(dataDir, dirname(path)), { recursive: true });
      await Deno.writeFile(join(dataDir, path), bytes);
      const entry: ManifestEntry = {
        path,
        sha256: await sha256Hex(bytes),
        rows,
        bytes: bytes.length,
        first_local_time: isoMicros(firstUs),
        last_local_time: isoMicros(lastUs),
        market: "spot",
        table,
      };
      manifest.add(entry);
      await manifest.save();
      return entry;
    },
    async script(name, body) {
      const path = join(dir, name);
      await Deno.writeTextFile(path, `#!/bin/bash\n${body}\n`);
      await Deno.chmod(path, 0o755);
      return path;
    },
    async remoteBytes(relPath) {
      try {
        return await Deno.readFile(join(remoteDir, relPath));
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return null;
        throw err;
      }
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * Body of a fake rclone that, on its first `copyto` only, runs `onFirstCopy` with `$src` and `$dst` (the
 * destination as a local path) set, and exits with its status; every other call goes to the real rclone.
 * Each copyto is logged to `{markDir}/copies`.
 */
export function firstCopyFails(markDir: string, onFirstCopy: string): string {
  return `
args=("$@")
for i in "\${!args[@]}"; do
  if [ "\${args[$i]}" = copyto ]; then
    echo copy >> "${markDir}/copies"
    if [ ! -e "${markDir}/first-done" ]; then
      touch "${markDir}/first-done"
      src="\${args[$((i+1))]}"
      dst="\${args[$((i+2))]#testremote:}"
      mkdir -p "$(dirname "$dst")"
      ${onFirstCopy}
    fi
  fi
done
exec rclone "$@"`;
}

/** `onFirstCopy` that writes half the file, then fails like a dropped connection. */
export const HALF_THEN_FAIL =
  'head -c $(( $(stat -c %s "$src") / 2 )) "$src" > "$dst"; echo "simulated: connection reset" >&2; exit 1';

/** `onFirstCopy` that writes same-size garbage and reports success. */
export const GARBAGE_THEN_SUCCEED = 'head -c $(stat -c %s "$src") /dev/urandom > "$dst"; exit 0';

/** Number of copyto calls a {@linkcode firstCopyFails} script saw. */
export async function copyCount(markDir: string): Promise<number> {
  try {
    return (await Deno.readTextFile(join(markDir, "copies"))).trim().split("\n").length;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return 0;
    throw err;
  }
}

/** Polls `cond` every 20 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
