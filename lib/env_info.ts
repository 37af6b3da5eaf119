/**
 * A record of the machine and software that produced the data (OS, kernel, runtime versions, locked packages,
 * CPU, memory, host, the effective config with secrets masked and the config file's hash, git commit), so a
 * result can be traced to what recorded it and how. Every field the process cannot read (missing permission,
 * no /proc, no git) is null rather than an error.
 * @module
 */

import { cpus as listCpus } from "node:os";
import { join } from "node:path";
import { maskSecrets } from "./config/secret.ts";
import { sha256Hex } from "./storage/manifest.ts";

/** The environment at one moment. */
export interface EnvironmentInfo {
  /** ISO 8601 UTC time of the record. */
  recorded_at: string;
  os: string;
  arch: string;
  kernel: string | null;
  hostname: string | null;
  deno: string;
  v8: string;
  typescript: string;
  /** deno.lock `specifiers`: specifier → resolved version, e.g. `"npm:yaml@2.9.1": "2.9.1"`. */
  packages: Record<string, string> | null;
  cpu_model: string | null;
  cpu_cores: number | null;
  memory_total_bytes: number | null;
  memory_available_bytes: number | null;
  /**
   * The effective configuration (lib/config.ts `Config`: every key with defaults applied), secrets masked as
   * `[redacted]`; null when none was given.
   */
  config: Record<string, unknown> | null;
  /** sha256 (hex) of the config file's bytes. */
  config_sha256: string | null;
  git_commit: string | null;
}

/** Where to look for the project's files. */
export interface EnvironmentPaths {
  /** The config file that was loaded. */
  configPath: string;
  /** deno.lock of the project. */
  lockPath: string;
  /** Root of the git work tree (where `.git` is). */
  repoDir: string;
}

/**
 * The `specifiers` map of a deno.lock file's text; null if it has none or is not JSON.
 *
 * @example
 * ```ts
 * lockedPackages('{"version":"5","specifiers":{"npm:yaml@2.9.1":"2.9.1"}}'); // { "npm:yaml@2.9.1": "2.9.1" }
 * ```
 */
export function lockedPackages(lockText: string): Record<string, string> | null {
  let doc: unknown;
  try {
    doc = JSON.parse(lockText);
  } catch {
    return null;
  }
  const specifiers = (doc as { specifiers?: unknown } | null)?.specifiers;
  if (typeof specifiers !== "object" || specifiers === null) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(specifiers)) if (typeof v === "string") out[k] = v;
  return out;
}

/**
 * Runs `f`; any error (unsupported platform, missing file) becomes null. With `permission`, `f` runs only if it
 * is already granted: asking would make Deno prompt on a terminal and stall the start.
 */
async function orNull<T>(f: () => T | Promise<T>, permission?: Deno.PermissionDescriptor): Promise<T | null> {
  try {
    if (permission && (await Deno.permissions.query(permission)).state !== "granted") return null;
    return await f();
  } catch {
    return null;
  }
}

/** HEAD's commit from the `.git` files (for processes without `--allow-run`); handles worktrees and packed refs. */
async function readGitHead(repoDir: string): Promise<string | null> {
  let gitDir = join(repoDir, ".git");
  const stat = await Deno.stat(gitDir);
  if (stat.isFile) {
    const pointer = /^gitdir:\s*(.+)$/m.exec(await Deno.readTextFile(gitDir))?.[1]?.trim();
    if (pointer === undefined) return null;
    gitDir = pointer.startsWith("/") ? pointer : join(repoDir, pointer);
  }
  const head = (await Deno.readTextFile(join(gitDir, "HEAD"))).trim();
  const ref = /^ref:\s*(.+)$/.exec(head)?.[1];
  if (ref === undefined) return /^[0-9a-f]{40,64}$/.test(head) ? head : null;
  // Branch refs of a worktree live in the common dir, named in `commondir`.
  const common = await orNull(async () =>
    join(gitDir, (await Deno.readTextFile(join(gitDir, "commondir"))).trim())
  );
  for (const dir of common === null ? [gitDir] : [gitDir, common]) {
    const loose = await orNull(async () => (await Deno.readTextFile(join(dir, ref))).trim());
    if (loose) return loose;
    const packed = await orNull(() => Deno.readTextFile(join(dir, "packed-refs")));
    const line = packed?.split("\n").find((l) => l.endsWith(` ${ref}`));
    if (line) return line.slice(0, line.indexOf(" "));
  }
  return null;
}

/** `git rev-parse HEAD` when the process may run git, else HEAD read from the `.git` files; null outside git. */
export async function gitCommit(repoDir: string): Promise<string | null> {
  const viaCommand = await orNull(async () => {
    const out = await new Deno.Command("git", {
      args: ["rev-parse", "HEAD"],
      cwd: repoDir,
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  }, { name: "run", command: "git" });
  return viaCommand || await orNull(() => readGitHead(repoDir), { name: "read", path: repoDir });
}

/**
 * The effective config as recorded: a JSON copy (a `Secret` prints as `[redacted]`) with everything else that
 * looks secret masked too (lib/config/secret.ts).
 */
export function recordedConfig(config: unknown): Record<string, unknown> | null {
  if (config === undefined || config === null) return null;
  return maskSecrets(JSON.parse(JSON.stringify(config))) as Record<string, unknown>;
}

/**
 * Collects the environment, with `config` (the effective configuration) masked of secrets. Needs
 * `--allow-read` (and `--allow-sys` for kernel, host, CPU and memory, `--allow-run=git` for the fast git path);
 * whatever is not allowed is null.
 *
 * @example
 * ```ts
 * const env = await collectEnvironment(
 *   { configPath: "config.yaml", lockPath: "deno.lock", repoDir: "." },
 *   Date.now(),
 * );
 * env.deno === Deno.version.deno; // true; fields it may not read (permissions, no git) are null
 * ```
 */
export async function collectEnvironment(
  paths: EnvironmentPaths,
  nowMs: number,
  config?: unknown,
): Promise<EnvironmentInfo> {
  // node:os reads /proc/cpuinfo (or the platform's equivalent) under --allow-sys; Deno itself lets a script
  // read /proc only with --allow-all.
  const cpus = await orNull(() => listCpus(), { name: "sys", kind: "cpus" });
  const memory = await orNull(() => Deno.systemMemoryInfo(), { name: "sys", kind: "systemMemoryInfo" });
  return {
    recorded_at: new Date(nowMs).toISOString(),
    os: Deno.build.os,
    arch: Deno.build.arch,
    kernel: await orNull(() => Deno.osRelease(), { name: "sys", kind: "osRelease" }),
    hostname: await orNull(() => Deno.hostname(), { name: "sys", kind: "hostname" }),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    packages: await orNull(async () => lockedPackages(await Deno.readTextFile(paths.lockPath)), {
      name: "read",
      path: paths.lockPath,
    }),
    cpu_model: cpus?.[0]?.model || null,
    cpu_cores: cpus?.length || navigator.hardwareConcurrency || null,
    memory_total_bytes: memory?.total ?? null,
    memory_available_bytes: memory?.available ?? null,
    config: recordedConfig(config),
    config_sha256: await orNull(async () => await sha256Hex(await Deno.readFile(paths.configPath)), {
      name: "read",
      path: paths.configPath,
    }),
    git_commit: await gitCommit(paths.repoDir),
  };
}
