/**
 * The collector under measurement: `deno run main.ts CONFIG` as the `start` task runs it, sampled from /proc
 * every second (CPU seconds of all its threads and finished children, RSS, and the RSS of the children it runs:
 * the compaction's merge processes), its log lines read back by message.
 * @module
 */
import { childPids, machineCpu, mainThreadWaitMs, procSample } from "./proc.ts";
import { type MainProcess, startMain, startTaskEnv, startTaskV8Flags } from "../tests/_main_process.ts";

/**
 * One second of the collector seen from /proc: RSS, its children's RSS together, CPU seconds, the main thread's
 * wait for a CPU (ms, cumulative) and the machine's CPU ticks (cumulative), at `atS` since start and wall time
 * `wallMs`.
 */
export interface ProcessSecond {
  atS: number;
  wallMs: number;
  rssMb: number;
  childrenRssMb: number;
  cpu: number;
  mainWaitMs: number;
  machine: { busy: number; steal: number; total: number };
}

/**
 * The collector as `deno run main.ts CONFIG` with the `start` task's V8 flags and environment, its stderr kept
 * in a file, sampled from /proc.
 */
export class CollectorRun {
  readonly #main: MainProcess;
  readonly log: string;
  peakRssMb = 0;
  /** One sample a second since start. */
  samples: ProcessSecond[] = [];
  #t0 = performance.now();
  #sampler: ReturnType<typeof setInterval>;

  constructor(configPath: string, logPath: string, profileDir?: string) {
    const prof = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
    this.#main = startMain([configPath], {
      denoFlags: [...startTaskV8Flags(), "--allow-all", ...prof],
      env: startTaskEnv(),
    });
    this.log = logPath;
    this.#sampler = setInterval(async () => {
      const pid = this.#main.child.pid;
      const [s, mainWaitMs, machine, children] = await Promise.all([
        procSample(pid),
        mainThreadWaitMs(pid),
        machineCpu(),
        childPids(pid).then((pids) => Promise.all(pids.map(procSample))),
      ]);
      if (!s) return;
      const childrenRssMb = children.reduce((n, c) => n + (c?.rssMb ?? 0), 0);
      this.peakRssMb = Math.max(this.peakRssMb, s.hwmMb);
      this.samples.push({
        atS: this.elapsedS(),
        wallMs: Date.now(),
        rssMb: s.rssMb,
        childrenRssMb,
        cpu: s.cpu,
        mainWaitMs,
        machine,
      });
    }, 1000);
  }

  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    await this.#main.waitForLog(pattern, timeoutMs);
  }

  /** Seconds since the process was started (the samples' `atS` clock). */
  elapsedS(): number {
    return (performance.now() - this.#t0) / 1000;
  }

  /** CPU seconds of the process now. */
  async cpu(): Promise<number> {
    return (await procSample(this.#main.child.pid))?.cpu ?? NaN;
  }

  /** SIGTERM; resolves with the stop time and the CPU seconds at the last sample before exit. */
  async stop(): Promise<{ stopMs: number; cpu: number; code: number }> {
    let cpu = await this.cpu();
    const t0 = performance.now();
    const exited = this.#main.child.status;
    const stopped = this.#main.stop("SIGTERM");
    let done = false;
    void exited.then(() => done = true);
    while (!done) {
      const s = await procSample(this.#main.child.pid);
      if (s) {
        cpu = s.cpu;
        this.peakRssMb = Math.max(this.peakRssMb, s.hwmMb);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const stopMs = performance.now() - t0;
    clearInterval(this.#sampler);
    const { code } = await stopped;
    await Deno.writeTextFile(this.log, this.#main.log);
    return { stopMs, cpu, code };
  }

  /** Fields of every log line with `message`, and its time as `_at` (ISO 8601). */
  lines(message: string): Record<string, string>[] {
    const out: Record<string, string>[] = [];
    for (const line of this.#main.log.split("\n")) {
      const m = new RegExp(`^\\S+ \\w+\\s+${message}(?: |$)`).exec(line);
      if (!m) continue;
      const fields: Record<string, string> = { _at: m[0].slice(0, m[0].indexOf(" ")) };
      for (const f of line.slice(m[0].length).matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
        fields[f[1]!] = f[2]!.startsWith('"') ? JSON.parse(f[2]!) : f[2]!;
      }
      out.push(fields);
    }
    return out;
  }
}
