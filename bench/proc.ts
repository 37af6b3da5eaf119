/**
 * A live process's CPU and memory from /proc, for the benchmarks that watch a child (the collector, the
 * simulator).
 * @module
 */

/**
 * The fields of a `/proc/PID/stat` line after the command name, from field 3 (the state) on: `fields[0]` is field
 * 3, `fields[n]` field n + 3. Cut after the last `)` because the name itself may hold spaces and parentheses.
 */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/**
 * CPU seconds (every thread, and the children it has waited for: the collector's merge children), RSS now and
 * its peak (the kernel's VmHWM), in MiB.
 */
export interface ProcSample {
  cpu: number;
  rssMb: number;
  hwmMb: number;
}

/** A sample of process `pid`, or null once it has exited (an exited process not yet reaped has no memory lines). */
export async function procSample(pid: number): Promise<ProcSample | null> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const fields = statFields(stat);
    // utime + stime + cutime + cstime (fields 14–17)
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    if (Number.isNaN(kb("VmRSS"))) return null;
    return { cpu: ticks / 100, rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
  } catch {
    return null;
  }
}

/** How long the main thread of `pid` has waited on the run queue for a CPU since it started, in ms (`schedstat`). */
export async function mainThreadWaitMs(pid: number): Promise<number> {
  try {
    return Number((await Deno.readTextFile(`/proc/${pid}/task/${pid}/schedstat`)).split(" ")[1]) / 1e6;
  } catch {
    return NaN;
  }
}

/** The machine's CPU time over every core since boot, in clock ticks: busy, stolen by the hypervisor, all. */
export async function machineCpu(): Promise<{ busy: number; steal: number; total: number }> {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = (await Deno.readTextFile("/proc/stat"))
    .split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq!;
  return { busy, steal: steal!, total: busy + idle! + iowait! + steal! };
}

/** The processes whose parent is `pid` (read from every process's `stat`). */
export async function childPids(pid: number): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
      if (Number(statFields(stat)[1]) === pid) out.push(Number(e.name));
    } catch {
      // Exited meanwhile.
    }
  }
  return out;
}
