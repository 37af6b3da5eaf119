/**
 * The command-line conventions every `deno task` tool follows: `-h`/`--help` prints the usage and exits 0, bad
 * arguments print `<tool>: <what is wrong>` and the usage and exit 2.
 * @module
 */

/** Bad command-line arguments; the message says what is wrong with them. */
export class UsageError extends Error {}

/** Runs `parse` (e.g. node:util's `parseArgs`), turning whatever it throws into a {@link UsageError}. */
export function usageErrors<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** Throws a {@link UsageError} when more than one positional argument (`what`) was given. */
export function oneAtMost(positionals: string[], what: string): string | undefined {
  if (positionals.length > 1) throw new UsageError(`one ${what} at most, got ${positionals.join(" ")}`);
  return positionals[0];
}

/** Where a tool prints its usage and its usage errors. */
export interface UsageOutput {
  usage: (text: string) => void;
  error: (text: string) => void;
}

const CONSOLE: UsageOutput = { usage: (t) => console.log(t), error: (t) => console.error(t) };

/**
 * A tool's options from `parse`, or the exit code when there is nothing more to do: 0 after printing `usage` for
 * "help", 2 after printing `<tool>: <message>` and `usage` for a {@link UsageError}. Other errors propagate.
 *
 * @example
 * ```ts
 * const options = toolOptions("report", "Usage: deno task report", () => "help" as const);
 * if (typeof options === "number") console.log(`exit ${options}`);
 * ```
 */
export function toolOptions<T>(
  tool: string,
  usage: string,
  parse: () => T | "help",
  output: UsageOutput = CONSOLE,
): T | number {
  let options: T | "help";
  try {
    options = parse();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    output.error(`${tool}: ${err.message}\n\n${usage}`);
    return 2;
  }
  if (options === "help") {
    output.usage(usage);
    return 0;
  }
  return options;
}
