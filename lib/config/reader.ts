/**
 * Strict readers of YAML nodes, composed into a schema table by lib/config.ts. Every failure is a
 * {@link ConfigError} naming the file, the line and the dotted key path, so the user can find the mistake.
 * Sections and lists record a failing entry in {@link Source.problems} and read on, so one run reports every
 * mistake of a file instead of one per run.
 */
import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from "yaml";

/** A problem with the configuration file: unreadable, not YAML, an unknown key, a wrong type or a bad value. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly path: string | null,
    readonly detail: string,
  ) {
    super(`${file}${line === null ? "" : `:${line}`}: ${path === null ? "" : `${path}: `}${detail}`);
    this.name = "ConfigError";
  }
}

/** A config file with one or more problems; `problems` lists them in the order they were found. */
export class InvalidConfigError extends Error {
  constructor(readonly problems: readonly ConfigError[]) {
    super(problems.map((p) => p.message).join("\n"));
    this.name = "InvalidConfigError";
  }
}

/** The parsed file: its name for messages, the line index, and the lines of every key read so far. */
export interface Source {
  readonly file: string;
  readonly doc: Document;
  readonly lines: LineCounter;
  /** Dotted key path → line of the key, filled in as sections are read (for cross-key checks). */
  readonly keyLines: Map<string, number>;
  /** Problems recorded so far; reading goes on past each one. */
  readonly problems: ConfigError[];
}

/** Where a value sits: its key path, its node and the node of its key (if it has one). */
export class Cursor {
  constructor(
    readonly src: Source,
    readonly path: string,
    readonly node: Node,
    readonly keyNode: Node | null = null,
  ) {}

  /** The value's line; for a mapping or list, the line of its key, which is where the user looks. */
  get line(): number {
    const at = (isMap(this.node) || isSeq(this.node)) && this.keyNode ? this.keyNode : this.node;
    return lineOf(this.src, at);
  }

  /** Throws a ConfigError at this value. */
  fail(detail: string): never {
    throw new ConfigError(this.src.file, this.line, this.path || null, detail);
  }
}

/** Reads one value, throwing a ConfigError if it does not fit. */
export type Reader<T> = (at: Cursor) => T;

/** One key of a section: how to read it, its default, and whether an empty value (`key:`) means the default. */
export interface Field<T> {
  readonly read: Reader<T>;
  readonly default: T;
  readonly nullable: boolean;
}

type Fields = Readonly<Record<string, Field<unknown>>>;

/**
 * Runs `read`; a ConfigError it throws is recorded in `src.problems` and `fallback` is returned instead, so the
 * caller reads on. Other errors propagate.
 */
export function recording<T>(src: Source, read: () => T, fallback: T): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    src.problems.push(e);
    return fallback;
  }
}

/** The values a section of `F` yields. */
export type Values<F extends Fields> = { -readonly [K in keyof F]: F[K] extends Field<infer T> ? T : never };

// Unknown keys that look like credentials: config.yaml is committed and shared, so it holds no secrets beyond the
// few known keys that lib/config.ts guards itself.
const SECRET_KEY = /token|secret|password|passwd|api_?key|private_?key/i;

function lineOf(src: Source, node: Node): number {
  return src.lines.linePos(node.range?.[0] ?? 0).line;
}

function resolve(src: Source, node: Node): Node {
  return isAlias(node) ? (node.resolve(src.doc) as Node | undefined) ?? node : node;
}

/** A short rendering of what the user wrote, for messages. */
function shown(node: Node): string {
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) return node.value === null ? "an empty value" : JSON.stringify(node.value);
  return "an unsupported value";
}

function isNull(node: Node): boolean {
  return isScalar(node) && node.value === null;
}

/** A key with a default. */
export function field<T>(read: Reader<T>, dflt: T, opts: { nullable?: boolean } = {}): Field<T> {
  return { read, default: dflt, nullable: opts.nullable ?? false };
}

/** A key without a default: `undefined` when absent, so the caller can tell "not given" apart. */
export function optional<T>(read: Reader<T>): Field<T | undefined> {
  return { read, default: undefined, nullable: false };
}

/** An integer in `[min, max]`. */
export function integer(range: { min?: number; max?: number } = {}): Reader<number> {
  return (at) => {
    const n = isScalar(at.node) ? at.node.value : undefined;
    if (typeof n !== "number" || !Number.isSafeInteger(n)) {
      return at.fail(`expected an integer, got ${shown(at.node)}`);
    }
    if (range.min !== undefined && n < range.min) return at.fail(`must be at least ${range.min}, got ${n}`);
    if (range.max !== undefined && n > range.max) return at.fail(`must be at most ${range.max}, got ${n}`);
    return n;
  };
}

/** A finite number in `[min, max]`. */
export function number(range: { min?: number; max?: number } = {}): Reader<number> {
  return (at) => {
    const n = isScalar(at.node) ? at.node.value : undefined;
    if (typeof n !== "number" || !Number.isFinite(n)) {
      return at.fail(`expected a number, got ${shown(at.node)}`);
    }
    if (range.min !== undefined && n < range.min) return at.fail(`must be at least ${range.min}, got ${n}`);
    if (range.max !== undefined && n > range.max) return at.fail(`must be at most ${range.max}, got ${n}`);
    return n;
  };
}

/** `true` or `false` (YAML 1.2: `yes`/`no`/`on` are strings, and rejected with a hint). */
export const boolean: Reader<boolean> = (at) => {
  const v = isScalar(at.node) ? at.node.value : undefined;
  return typeof v === "boolean" ? v : at.fail(`expected true or false, got ${shown(at.node)}`);
};

/** A string; `nonEmpty` rejects `""`. Numbers are rejected rather than converted: quote them. */
export function text(opts: { nonEmpty?: boolean } = {}): Reader<string> {
  return (at) => {
    const v = isScalar(at.node) ? at.node.value : undefined;
    if (typeof v !== "string") {
      const hint = typeof v === "number" || typeof v === "boolean" ? " (quote it to make it a string)" : "";
      return at.fail(`expected a string, got ${shown(at.node)}${hint}`);
    }
    if (opts.nonEmpty && v === "") return at.fail("must not be empty");
    return v;
  };
}

/** Reads with `read`, then checks or converts the value with `fn` (which calls `at.fail` to reject). */
export function refine<T, U>(read: Reader<T>, fn: (value: T, at: Cursor) => U): Reader<U> {
  return (at) => fn(read(at), at);
}

/** A YAML list of `item`s; a bad item is recorded and left out, and the items after it are still read. */
export function list<T>(item: Reader<T>, opts: { nonEmpty?: boolean; unique?: boolean } = {}): Reader<T[]> {
  return (at) => {
    if (!isSeq(at.node)) return at.fail(`expected a list, got ${shown(at.node)}`);
    if (opts.nonEmpty && at.node.items.length === 0) return at.fail("must not be an empty list");
    const out: T[] = [];
    at.node.items.forEach((n, i) => {
      const itemAt = new Cursor(at.src, `${at.path}[${i}]`, resolve(at.src, n as Node));
      recording(at.src, () => {
        const v = item(itemAt);
        if (opts.unique && out.includes(v)) itemAt.fail(`duplicate entry ${JSON.stringify(v)}`);
        out.push(v);
      }, undefined);
    });
    return out;
  };
}

/** One `item` or a list of them, always returned as a list. */
export function oneOrList<T>(item: Reader<T>): Reader<T[]> {
  const many = list(item, { unique: true });
  return (at) => isSeq(at.node) ? many(at) : [item(at)];
}

/**
 * A mapping with exactly the keys of `fields` (each optional, defaults applied). Unknown keys are errors,
 * with a suggestion when one is close; unknown keys that look like secrets get a pointer to the environment
 * instead. A bad key or value is recorded and keeps its default, and the keys after it are still read.
 */
export function section<F extends Fields>(fields: F): Reader<Values<F>> {
  return (at) => {
    if (!isMap(at.node)) return at.fail(`expected a mapping of keys to values, got ${shown(at.node)}`);
    const out: Record<string, unknown> = {};
    for (const [name, f] of Object.entries(fields)) out[name] = f.default;
    for (const pair of at.node.items) {
      const keyNode = pair.key as Node;
      const key = isScalar(keyNode) ? keyNode.value : undefined;
      const keyPath = at.path === "" ? String(key) : `${at.path}.${String(key)}`;
      const keyAt = new Cursor(at.src, keyPath, keyNode);
      recording(at.src, () => {
        if (typeof key !== "string") return keyAt.fail("keys must be plain strings");
        const f = Object.hasOwn(fields, key) ? fields[key] : undefined;
        if (!f && SECRET_KEY.test(key)) {
          return keyAt.fail(
            "secrets do not belong in config.yaml: remove this key; the Telegram bot token is read from the " +
              "TELEGRAM_BOT_TOKEN environment variable",
          );
        }
        if (!f) return keyAt.fail(`unknown key${suggest(key, Object.keys(fields))}`);
        at.src.keyLines.set(keyPath, keyAt.line);
        // `key:` with nothing after it is a YAML null: "use the default" where that is allowed.
        if (pair.value === null) {
          if (f.nullable) return;
          return keyAt.fail("has no value");
        }
        const valueNode = resolve(at.src, pair.value as Node);
        if (f.nullable && isNull(valueNode)) return;
        out[key] = f.read(new Cursor(at.src, keyPath, valueNode, keyNode));
      }, undefined);
    }
    return out as Values<F>;
  };
}

/** The default values of a section, as `section(fields)` yields for an empty mapping. */
export function defaultsOf<F extends Fields>(fields: F): Values<F> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(fields)) out[name] = f.default;
  return out as Values<F>;
}

/** " (did you mean \"x\"?)" for the known key nearest to `key` within two edits, else "". */
function suggest(key: string, known: readonly string[]): string {
  let best = "";
  let bestDist = 3;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k);
    if (d < bestDist) [best, bestDist] = [k, d];
  }
  const valid = `; valid keys here: ${known.join(", ")}`;
  return best === "" ? valid : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
