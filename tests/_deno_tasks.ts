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

/**
 * The arguments after `deno` of task `name`, split at whitespace (the tasks have no quoting).
 *
 * @throws {Error} when there is no such task or it does not start with `deno`.
 */
export function denoTaskArgs(name: string): string[] {
  const task = denoTask(name);
  const [deno, ...args] = (task ?? "").split(/\s+/);
  if (deno !== "deno") throw new Error(`deno.json's ${name} task does not start with deno: ${task}`);
  return args;
}
