/**
 * A merge input on an rclone remote (`remote:path`, or a connection string such as `:local:/path`): its files are
 * listed with `rclone lsjson` and fetched a few at a time with `rclone copy --files-from-raw` into a local
 * directory, each checked for its listed size (rclone skips a listed file that is gone without failing).
 * @module
 */

/** rclone's exit code for "directory not found". */
const DIR_NOT_FOUND = 3;
const STDERR_KEPT = 1500;

/** A file of the remote: its path below the remote root and its size. */
export interface RemoteListing {
  rel: string;
  size: number;
}

/** The remote or its path does not exist (a bad input rather than a failure). */
export class RemoteNotFoundError extends Error {
  constructor(readonly remote: string, detail: string) {
    super(`Cannot read ${remote}: ${detail}`);
    this.name = "RemoteNotFoundError";
  }
}

/** rclone could not be run, failed, or fetched a file that does not match its listing. */
export class RcloneFetchError extends Error {
  constructor(readonly remote: string, message: string, options?: ErrorOptions) {
    super(`rclone failed on ${remote}: ${message}`, options);
    this.name = "RcloneFetchError";
  }
}

/** Options of {@linkcode RcloneRemote}. */
export interface RcloneRemoteOptions {
  /** The rclone executable. @default {"rclone"} */
  binary?: string;
  /** rclone config file (`--config`); rclone's own default when absent. */
  configPath?: string;
}

/**
 * One rclone remote root.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/src/spot/trades/date=2024-01-02`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/src/spot/trades/date=2024-01-02/a.parquet`, "PAR1");
 * const remote = new RcloneRemote(`:local:${dir}/src`);
 * const files = await remote.list(); // [{ rel: "spot/trades/date=2024-01-02/a.parquet", size: 4 }]
 * await remote.fetch(files, `${dir}/copy`); // now at ${dir}/copy/spot/trades/date=2024-01-02/a.parquet
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RcloneRemote {
  readonly #binary: string;
  readonly #global: string[];

  constructor(readonly remote: string, options: RcloneRemoteOptions = {}) {
    this.#binary = options.binary ?? "rclone";
    this.#global = options.configPath === undefined ? [] : ["--config", options.configPath];
  }

  /** Every file below the root (recursively). */
  async list(): Promise<RemoteListing[]> {
    const out = await this.#run(["lsjson", "-R", "--files-only", this.remote]);
    let items: unknown;
    try {
      items = JSON.parse(out);
    } catch (err) {
      throw new RcloneFetchError(this.remote, "rclone lsjson printed invalid JSON", { cause: err });
    }
    if (!Array.isArray(items)) throw new RcloneFetchError(this.remote, "rclone lsjson printed no list");
    return items.flatMap((i) =>
      typeof i?.Path === "string" && Number.isSafeInteger(i?.Size) ? [{ rel: i.Path, size: i.Size }] : []
    );
  }

  /** Copies `files` into `dir` (same relative paths) and checks that each arrived whole. */
  async fetch(files: readonly RemoteListing[], dir: string): Promise<void> {
    if (files.length === 0) return;
    await Deno.mkdir(dir, { recursive: true });
    const list = `${dir}.files-from`;
    await Deno.writeTextFile(list, files.map((f) => f.rel).join("\n") + "\n");
    try {
      await this.#run(["copy", this.remote, dir, "--files-from-raw", list, "--no-traverse"]);
    } finally {
      await Deno.remove(list).catch(() => {});
    }
    for (const f of files) {
      let size: number | null = null;
      try {
        size = (await Deno.stat(`${dir}/${f.rel}`)).size;
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
      if (size !== f.size) {
        const got = size === null ? "it did not arrive" : `${size} bytes arrived`;
        throw new RcloneFetchError(this.remote, `${f.rel} is listed with ${f.size} bytes, ${got}`);
      }
    }
  }

  async #run(args: string[]): Promise<string> {
    let result: Deno.CommandOutput;
    try {
      result = await new Deno.Command(this.#binary, {
        args: [...this.#global, ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (err) {
      const why = err instanceof Deno.errors.NotFound
        ? `${this.#binary} is not installed (needed to read a remote)`
        : String(err);
      throw new RcloneFetchError(this.remote, why, { cause: err });
    }
    const stderr = new TextDecoder().decode(result.stderr).trim();
    if (result.code === 0) return new TextDecoder().decode(result.stdout);
    const tail = stderr.length > STDERR_KEPT ? `…${stderr.slice(-STDERR_KEPT)}` : stderr;
    if (result.code === DIR_NOT_FOUND) throw new RemoteNotFoundError(this.remote, "directory not found");
    if (/didn't find section in config file/.test(stderr)) {
      throw new RemoteNotFoundError(this.remote, "no such remote in the rclone config");
    }
    throw new RcloneFetchError(this.remote, `rclone ${args[0]} exited with code ${result.code}: ${tail}`);
  }
}
