/**
 * Where an export's bytes go, written as they are produced: a file that appears complete or not at all
 * (written beside it and renamed at the end), or stdout.
 * @module
 */

import { dirname } from "node:path";

/** A destination written incrementally. */
export interface ByteSink {
  /** Writes all of `bytes`. */
  write(bytes: Uint8Array): Promise<void>;
  /** Finishes the output (a file is renamed into place). */
  commit(): Promise<void>;
  /** Gives up: a file's partial output is removed; nothing else changes. */
  abort(): Promise<void>;
}

/** The output file already exists; it is left as it is. */
export class OutputExistsError extends Error {
  constructor(readonly path: string) {
    super(`Cannot write ${path}: the file exists (remove it or choose another --out)`);
    this.name = "OutputExistsError";
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * A sink writing `path`: bytes go to `path.partial-<pid>` in the same directory, renamed to `path` by
 * `commit`. Refuses a `path` that exists ({@linkcode OutputExistsError}); creates missing parent directories.
 */
export async function openFileSink(path: string): Promise<ByteSink> {
  if (await exists(path)) throw new OutputExistsError(path);
  await Deno.mkdir(dirname(path), { recursive: true });
  const partial = `${path}.partial-${Deno.pid}`;
  const file = await Deno.open(partial, { write: true, createNew: true });
  let open = true;
  const close = () => {
    if (open) file.close();
    open = false;
  };
  return {
    async write(bytes) {
      for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
    },
    async commit() {
      await file.sync();
      close();
      // Checked again: another process may have created it meanwhile, and rename would replace it.
      if (await exists(path)) {
        await Deno.remove(partial);
        throw new OutputExistsError(path);
      }
      await Deno.rename(partial, path);
    },
    async abort() {
      close();
      await Deno.remove(partial).catch(() => {});
    },
  };
}

/** A sink writing to stdout. */
export function stdoutSink(): ByteSink {
  return {
    async write(bytes) {
      for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
    },
    commit: () => Promise.resolve(),
    abort: () => Promise.resolve(),
  };
}

/**
 * Lines of text into a sink, encoded and written in chunks: {@linkcode add} only queues (no promise per line),
 * {@linkcode flushIfFull} writes once about `chunkChars` characters are queued.
 */
export class LineWriter {
  readonly #encoder = new TextEncoder();
  #pending: string[] = [];
  #pendingChars = 0;

  constructor(readonly sink: ByteSink, readonly chunkChars = 1 << 20) {}

  /** Queues one line (a line break is appended). */
  add(text: string): void {
    this.#pending.push(text);
    this.#pendingChars += text.length + 1;
  }

  /** Writes what is queued if it is a chunk's worth. */
  async flushIfFull(): Promise<void> {
    if (this.#pendingChars >= this.chunkChars) await this.flush();
  }

  /** Writes what is queued. */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join("\n") + "\n";
    this.#pending = [];
    this.#pendingChars = 0;
    await this.sink.write(this.#encoder.encode(text));
  }
}
