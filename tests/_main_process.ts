/**
 * The collector as a user runs it: `main.ts` (or a compiled binary) in its own process, observed from outside.
 * Its stderr log is collected as it comes, so a test can wait for a line, then stop the process with a signal
 * and read the exit code; `kill()` in a `finally` leaves no process behind.
 */
import { fileURLToPath } from "node:url";
import { denoTask, denoTaskEnv } from "./_deno_tasks.ts";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
/** How much of the log's end a failure shows. */
const TAIL_CHARS = 3000;

/** A port free on 127.0.0.1 right now (for a process's status server). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Options of {@link startMain} and {@link startProcess}. */
export interface ProcessOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Collect stdout into {@link MainProcess.stdout} too (otherwise it is discarded). */
  stdout?: boolean;
}

/** Options of {@link startMain}. */
export interface StartMainOptions extends ProcessOptions {
  /** Deno's flags before `main.ts` (default `--allow-all`). */
  denoFlags?: string[];
}

/**
 * The `--v8-flags=…` of deno.json's `start` task (the V8 heap flags of README "Memory"): a benchmark
 * starts main.ts with them, as a user of the task does.
 */
export function startTaskV8Flags(): string[] {
  return (denoTask("start") ?? "").split(/\s+/).filter((arg) => arg.startsWith("--v8-flags="));
}

/** Every flag of deno.json's `start` task (its permissions and V8 flags): a test runs main.ts as the task does. */
export function startTaskFlags(): string[] {
  return (denoTask("start") ?? "").split(/\s+/).filter((arg) => arg.startsWith("--"));
}

/**
 * The environment deno.json's `start` task sets (`MALLOC_ARENA_MAX=1`, README "Memory"): a benchmark starts
 * main.ts with it, as the task and the service units do.
 */
export function startTaskEnv(): Record<string, string> {
  return denoTaskEnv("start");
}

/** Starts `deno run --allow-all main.ts ...args` (e.g. `[configPath]`). */
export function startMain(args: string[], options: StartMainOptions = {}): MainProcess {
  const flags = options.denoFlags ?? ["--allow-all"];
  return new MainProcess(Deno.execPath(), ["run", ...flags, MAIN, ...args], options);
}

/** Starts `command ...args`: a program that logs as main.ts does, such as the compiled collector. */
export function startProcess(command: string, args: string[], options: ProcessOptions = {}): MainProcess {
  return new MainProcess(command, args, options);
}

/** A running process and what it has logged so far. */
export class MainProcess {
  readonly child: Deno.ChildProcess;
  /** Everything written to stderr so far. */
  log = "";
  /** Everything written to stdout so far (only with `stdout: true`). */
  stdout = "";
  #running = true;
  #ended = false;
  /** The exit status, once the process exited and its output was read to the end. */
  readonly #status: Promise<Deno.CommandStatus>;

  constructor(command: string, args: string[], options: ProcessOptions) {
    this.child = new Deno.Command(command, {
      args,
      env: options.env,
      cwd: options.cwd,
      stdout: options.stdout ? "piped" : "null",
      stderr: "piped",
    }).spawn();
    const read = async (stream: ReadableStream<Uint8Array>, append: (text: string) => void) => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) append(chunk);
    };
    const reading = [read(this.child.stderr, (t) => this.log += t)];
    if (options.stdout) reading.push(read(this.child.stdout, (t) => this.stdout += t));
    void this.child.status.then(() => this.#running = false);
    this.#status = Promise.all([this.child.status, ...reading]).then(([status]) => {
      this.#ended = true;
      return status;
    });
  }

  /** False once the process has exited. */
  get running(): boolean {
    return this.#running;
  }

  /** The exit status, once the process has exited and its output is read to the end. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#status;
  }

  /** The end of the log, for failure messages. */
  tail(chars = TAIL_CHARS): string {
    return this.log.slice(-chars);
  }

  /** How many times `pattern` occurs in the log. */
  count(pattern: RegExp): number {
    const global = new RegExp(
      pattern.source,
      pattern.flags.includes("g") ? pattern.flags : pattern.flags + "g",
    );
    return [...this.log.matchAll(global)].length;
  }

  /**
   * Resolves with the first match once `pattern` occurs `times` times in the log. Rejects with the log's end
   * after `timeoutMs`, or as soon as the process has ended without it.
   */
  async waitForLog(pattern: RegExp, timeoutMs: number, times = 1): Promise<RegExpExecArray> {
    const end = Date.now() + timeoutMs;
    const what = times > 1 ? `${pattern} ${times} times` : String(pattern);
    const once = new RegExp(pattern.source, pattern.flags.replace("g", ""));
    for (;;) {
      // Read before looking at #ended: the log is whole once the process ended.
      const ended = this.#ended;
      const match = once.exec(this.log);
      if (match && this.count(pattern) >= times) return match;
      if (ended) {
        const code = (await this.#status).code;
        throw new Error(`The process exited (code ${code}) before logging ${what}:\n${this.tail()}`);
      }
      if (Date.now() > end) {
        throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} in the log:\n${this.tail()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends `signal` and resolves with the exit status once the output is read to the end. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    if (!this.#running) throw new Error(`Cannot send ${signal}: the process already exited:\n${this.tail()}`);
    this.child.kill(signal);
    return await this.#status;
  }

  /** SIGKILL unless the process has exited, then waits for it: for `finally` blocks. */
  async kill(): Promise<void> {
    if (this.#running) {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // It exited meanwhile.
      }
    }
    await this.#status.catch(() => {});
  }
}
