/** `deno info --json` of a module of this project, for tests about its import graph. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/** The project's root directory, with a trailing slash. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The module graph `deno info --json` prints for `root` (a path relative to {@link ROOT}). */
export interface DenoInfo {
  roots: string[];
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier?: string }; isDynamic?: boolean }[];
  }[];
  redirects: Record<string, string>;
}

/** Runs `deno info --json root` in the project's root. */
export async function denoInfo(root: string): Promise<DenoInfo> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, `deno info ${root}: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as DenoInfo;
}
