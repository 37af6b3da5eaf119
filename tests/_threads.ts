/** The threads of a live process on Linux, from /proc: name and nice value, for the tests of their priorities. */

export interface ThreadInfo {
  tid: number;
  name: string;
  nice: number;
}

/** Every thread of process `pid` (threads that end while being read are left out). */
export function threadsOf(pid: number): ThreadInfo[] {
  const out: ThreadInfo[] = [];
  for (const e of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${e.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const name = Deno.readTextFileSync(`/proc/${pid}/task/${e.name}/comm`).trim();
      out.push({ tid: Number(e.name), name, nice: Number(fields[16]) }); // field 19: nice
    } catch {
      // The thread ended.
    }
  }
  return out;
}
