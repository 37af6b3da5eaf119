/**
 * A live process's CPU and memory from /proc, for the benchmarks that watch a child (the collector, the
 * simulator).
 * @module
 */

/** CPU seconds (every thread), RSS now and its peak (the kernel's VmHWM), in MiB. */
export interface ProcSample {
  cpu: number;
  rssMb: number;
  hwmMb: number;
}

/** A sample of process `pid`, or null once it has exited (an exited process not yet reaped has no memory lines). */
export async function procSample(pid: number): Promise<ProcSample | null> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    if (Number.isNaN(kb("VmRSS"))) return null;
    return { cpu: ticks / 100, rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
  } catch {
    return null;
  }
}
