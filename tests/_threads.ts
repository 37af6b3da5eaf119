/**
 * The threads of a live process on Linux: name and nice value, for the tests of their priorities. Read through
 * `sh` because Deno grants reads of `/proc/PID/task` only with `--allow-all`, which the test task does not give.
 */

import { statFields } from "../bench/proc.ts";

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
    const fields = statFields(stat);
    out.push({
      tid: Number(stat.slice(0, stat.indexOf(" "))),
      name: lines[i + 1]!,
      nice: Number(fields[16]),
    });
  }
  return out;
}

/** The child processes of `pid` (its threads' `children` lists), with their command lines. */
export async function childrenOf(pid: number): Promise<{ pid: number; cmdline: string }[]> {
  const script = `for c in $(cat /proc/${pid}/task/*/children 2>/dev/null); do
    printf '%s %s\\n' "$c" "$(tr '\\0' ' ' < /proc/$c/cmdline 2>/dev/null)"
  done`;
  const { stdout } = await new Deno.Command("sh", { args: ["-c", script] }).output();
  return new TextDecoder().decode(stdout).split("\n").filter(Boolean).map((line) => ({
    pid: Number(line.slice(0, line.indexOf(" "))),
    cmdline: line.slice(line.indexOf(" ") + 1),
  }));
}

/** Whether process `pid` still runs (an exited child not yet reaped by its new parent counts as gone). */
export async function isRunning(pid: number): Promise<boolean> {
  const { stdout } = await new Deno.Command("sh", {
    args: ["-c", `cat /proc/${pid}/stat 2>/dev/null`],
  }).output();
  const stat = new TextDecoder().decode(stdout);
  return stat !== "" && statFields(stat)[0] !== "Z";
}
