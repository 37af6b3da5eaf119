/**
 * deno.json's tasks as a user types them: tests and benchmarks run a task's own command line (not a copy of
 * it), so a change to deno.json is what they exercise.
 */

/** The command line of deno.json's task `name`, or null when there is no such task. */
export function denoTask(name: string): string | null {
  const config = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url))) as {
    tasks?: Record<string, string>;
  };
  return config.tasks?.[name] ?? null;
}

/** A task's leading `NAME=value` words: the environment it runs `deno` with. */
const ASSIGNMENT = /^([A-Z_][A-Z0-9_]*)=(\S*)$/;

/** The environment variables task `name` sets before `deno` (e.g. `MALLOC_ARENA_MAX=1 deno run …`). */
export function denoTaskEnv(name: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const word of (denoTask(name) ?? "").split(/\s+/)) {
    const m = ASSIGNMENT.exec(word);
    if (!m) break;
    env[m[1]!] = m[2]!;
  }
  return env;
}

/**
 * The arguments after `deno` of task `name`, split at whitespace (the tasks have no quoting), after the
 * environment it sets ({@link denoTaskEnv}).
 *
 * @throws {Error} when there is no such task or it does not run `deno`.
 */
export function denoTaskArgs(name: string): string[] {
  const task = denoTask(name);
  const words = (task ?? "").split(/\s+/);
  const [deno, ...args] = words.slice(Object.keys(denoTaskEnv(name)).length);
  if (deno !== "deno") throw new Error(`deno.json's ${name} task does not run deno: ${task}`);
  return args;
}
