/**
 * A thin wrapper over the `rclone` command line (`Deno.Command`, so the process needs `--allow-run`): copy one
 * file, read one remote file's size and sha256, delete one remote file, copy a filtered tree. Each call is one
 * subprocess with a timeout; a failure is an {@linkcode RcloneError} carrying the exit code and the end of
 * stderr.
 * @module
 */

/** Options of {@linkcode Rclone}. */
export interface RcloneOptions {
  /** The rclone executable (a path, or a name looked up on `PATH`). @default {"rclone"} */
  binary?: string;
  /** rclone config file, passed as `--config`; rclone's own default when absent. */
  configPath?: string;
  /** Limit per call; the process is killed (SIGTERM) after it. @default {1800000} (30 min: a large file, slow link) */
  timeoutMs?: number;
}

/** Size and sha256 of a remote file; `sha256` is null when the remote does not store sha256 hashes. */
export interface RemoteFile {
  size: number;
  sha256: string | null;
}

/** What a remote file must be: the manifest's byte count and lower-case hex sha256. */
export interface ExpectedFile {
  bytes: number;
  sha256: string;
}

/** An rclone call failed: could not start, exited non-zero, or printed output we cannot read. */
export class RcloneError extends Error {
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stderr: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "RcloneError";
  }
}

/** An rclone call ran longer than its timeout and was killed. */
export class RcloneTimeoutError extends RcloneError {
  constructor(command: string, readonly timeoutMs: number, stderr: string) {
    super(command, null, stderr, `rclone ${command} timed out after ${timeoutMs} ms${tail(stderr)}`);
    this.name = "RcloneTimeoutError";
  }
}

/** A remote file is missing or differs from what was uploaded. */
export class RemoteMismatchError extends Error {
  constructor(readonly remote: string, readonly problem: string) {
    super(`Cannot confirm upload ${remote}: ${problem}`);
    this.name = "RemoteMismatchError";
  }
}

const STDERR_KEPT = 2000;
/** rclone's exit codes for "directory not found" and "file not found". */
const NOT_FOUND_CODES = [3, 4];

function tail(stderr: string): string {
  const text = stderr.trim();
  if (text === "") return "";
  return `: ${text.length > STDERR_KEPT ? `…${text.slice(-STDERR_KEPT)}` : text}`;
}

/**
 * The rclone root of `cloud_remote` + `cloud_path`: `name:path` (a trailing `:` on the name and trailing `/` on
 * the path are tolerated). Throws `RangeError` for an empty remote name.
 *
 * @example
 * ```ts
 * remoteRoot("gdrive", "binance-data"); // "gdrive:binance-data"
 * remoteRoot("gdrive:", ""); // "gdrive:"
 * ```
 */
export function remoteRoot(remote: string, path: string): string {
  const name = remote.replace(/:$/, "");
  if (name === "") throw new RangeError("Cannot build an rclone root: the remote name is empty");
  return `${name}:${path.replace(/\/+$/, "")}`;
}

/**
 * The remote path of a file `relPath` (relative to `data_dir`) under `root` from {@linkcode remoteRoot}.
 *
 * @example
 * ```ts
 * remoteFile("gdrive:binance-data", "spot/trades/x.parquet"); // "gdrive:binance-data/spot/trades/x.parquet"
 * ```
 */
export function remoteFile(root: string, relPath: string): string {
  return root.endsWith(":") ? `${root}${relPath}` : `${root}/${relPath}`;
}

/**
 * rclone as a subprocess.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "../storage/manifest.ts";
 *
 * // A local directory as the remote (rclone's `:local:` backend); in production e.g.
 * // remoteRoot("gdrive", "binance-data").
 * const dir = await Deno.makeTempDir();
 * const bytes = new TextEncoder().encode("PAR1");
 * await Deno.writeFile(`${dir}/hour-07.parquet`, bytes);
 * const rclone = new Rclone(); // `configPath` names another rclone.conf
 * const remote = remoteFile(remoteRoot(":local:", `${dir}/remote`), "spot/trades/hour-07.parquet");
 * await rclone.copyFile(`${dir}/hour-07.parquet`, remote);
 * await rclone.check(remote, { bytes: bytes.length, sha256: await sha256Hex(bytes) }); // throws if it differs
 * (await rclone.stat(remote))?.size; // 4
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Rclone {
  readonly #binary: string;
  readonly #global: string[];
  readonly #timeoutMs: number;

  constructor(options: RcloneOptions = {}) {
    const { binary = "rclone", configPath, timeoutMs = 1_800_000 } = options;
    if (!(timeoutMs > 0)) {
      throw new RangeError(`Cannot run rclone: 'timeoutMs' must be positive: ${timeoutMs}`);
    }
    this.#binary = binary;
    this.#global = configPath === undefined ? [] : ["--config", configPath];
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Copies one local file to a remote path (`rclone copyto`). `--ignore-times` makes it transfer even when a
   * remote file of the same size and time exists, so a bad earlier copy is always replaced.
   */
  async copyFile(local: string, remote: string): Promise<void> {
    await this.#run("copyto", [local, remote, "--ignore-times"]);
  }

  /** Size and sha256 of a remote file (`rclone lsjson --hash`); null if there is no such file. */
  async stat(remote: string): Promise<RemoteFile | null> {
    const out = await this.#run("lsjson", ["--hash", "--hash-type", "sha256", "--files-only", remote], {
      notFoundOk: true,
    });
    if (out === null) return null;
    const name = remote.slice(Math.max(remote.lastIndexOf("/"), remote.lastIndexOf(":")) + 1);
    let items: unknown;
    try {
      items = JSON.parse(out);
    } catch (err) {
      throw new RcloneError("lsjson", 0, "", `rclone lsjson printed invalid JSON for ${remote}`, {
        cause: err,
      });
    }
    // On a directory path lsjson lists its contents; only an item named like the file is the file.
    const item = Array.isArray(items)
      ? items.find((i): i is { Name: string; Size: number; Hashes?: Record<string, string> } =>
        typeof i === "object" && i !== null && i.Name === name && Number.isSafeInteger(i.Size)
      )
      : undefined;
    if (item === undefined) return null;
    const sha256 = item.Hashes?.sha256;
    return {
      size: item.Size,
      sha256: typeof sha256 === "string" && sha256 !== "" ? sha256.toLowerCase() : null,
    };
  }

  /** sha256 of a remote file computed by downloading it (`rclone hashsum --download`), for remotes without one. */
  async downloadSha256(remote: string): Promise<string> {
    const out = (await this.#run("hashsum", ["sha256", "--download", remote]))!;
    const hash = /^([0-9a-fA-F]{64})\s/.exec(out)?.[1];
    if (hash === undefined) {
      throw new RcloneError(
        "hashsum",
        0,
        "",
        `rclone hashsum printed no sha256 for ${remote}: ${out.trim()}`,
      );
    }
    return hash.toLowerCase();
  }

  /**
   * Confirms that a remote file has the expected size and sha256 (the remote's stored hash, or one computed by
   * download when it stores none). Throws {@linkcode RemoteMismatchError} if not.
   */
  async check(remote: string, expected: ExpectedFile): Promise<void> {
    const file = await this.stat(remote);
    if (file === null) throw new RemoteMismatchError(remote, "no such file on the remote");
    if (file.size !== expected.bytes) {
      throw new RemoteMismatchError(remote, `${file.size} bytes, expected ${expected.bytes}`);
    }
    const sha256 = file.sha256 ?? await this.downloadSha256(remote);
    if (sha256 !== expected.sha256) {
      throw new RemoteMismatchError(remote, `sha256 ${sha256}, expected ${expected.sha256}`);
    }
  }

  /** Deletes one remote file (`rclone deletefile`); a file already gone is not an error. */
  async deleteFile(remote: string): Promise<void> {
    if (await this.stat(remote) === null) return;
    await this.#run("deletefile", [remote]);
  }

  /**
   * Copies the files under `src` that match one of the `include` filter patterns (rclone's syntax; a leading `/`
   * anchors at `src`) into `dst` (`rclone copy`). Either side may be a local directory or a remote path. A
   * missing `src` is an {@linkcode RcloneError} (exit code 3).
   */
  async copyMatching(src: string, dst: string, include: readonly string[]): Promise<void> {
    if (include.length === 0) throw new RangeError("Cannot copy matching files: no include pattern");
    await this.#run("copy", [src, dst, ...include.flatMap((pattern) => ["--include", pattern])]);
  }

  /** Runs `rclone <command> <args>`; stdout, or null for a not-found exit when `notFoundOk`. */
  async #run(command: string, args: string[], opts: { notFoundOk?: boolean } = {}): Promise<string | null> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(this.#binary, {
        args: [...this.#global, command, ...args],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal,
      }).output();
    } catch (err) {
      throw new RcloneError(command, null, "", `Cannot start rclone (${this.#binary}): ${err}`, {
        cause: err,
      });
    }
    const stderr = new TextDecoder().decode(out.stderr);
    if (signal.aborted) throw new RcloneTimeoutError(command, this.#timeoutMs, stderr);
    if (out.success) return new TextDecoder().decode(out.stdout);
    if (opts.notFoundOk && NOT_FOUND_CODES.includes(out.code)) return null;
    throw new RcloneError(
      command,
      out.code,
      stderr,
      `rclone ${command} exited with ${out.code}${tail(stderr)}`,
    );
  }
}
