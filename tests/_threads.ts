/**
 * The threads of a live process on Linux: name and nice value, for the tests of their priorities. Read through
 * `sh` because Deno grants reads of `/proc/PID/task` only with `--allow-all`, which the test task does not give.
 */

export interface ThreadInfo {
  tid: number;
  name: string;
  nice: number;
}

/** Every thread of process `pid` (threads that end while being read are left out). */
export async function threadsOf(pid: number): Promise<ThreadInfo[]> {
  const script = `for t in /proc/${pid}/task/*; do
    s=$(cat "$t/stat" 2>/dev/null) && c=$(cat "$t/comm" 2>/dev/null) && printf '%s\\n%s\\n' "$s" "$c"
  done`;
  const { code, stdout, stderr } = await new Deno.Command("sh", { args: ["-c", script] }).output();
  const text = new TextDecoder().decode(stdout);
  if (code !== 0) {
    throw new Error(`reading the threads of ${pid} failed: ${new TextDecoder().decode(stderr)}`);
  }
  const lines = text.split("\n");
  const out: ThreadInfo[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const stat = lines[i]!;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.push({
      tid: Number(stat.slice(0, stat.indexOf(" "))),
      name: lines[i + 1]!,
      nice: Number(fields[16]),
    });
  }
  return out;
}
