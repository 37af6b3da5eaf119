/**
 * Reads the recorded Binance fixtures under `tests/fixtures/` (gzip text, one record per line), for tests.
 *
 * Two recorder formats exist (see tests/fixtures/SOURCES.md):
 * - hftbacktest: `<local ns> <text>`: a combined-stream frame, or (once per file) a bare REST depth body.
 * - cryptofeed: `configuration: {json}`, `<wss url> <-> <local s>` (connection opened),
 *   `<local s>: <frame>`, `<https url> -> <local s>: <body>`.
 *
 * Both are turned into {@link FixtureRecord}s whose local time is in microseconds, the collector's resolution
 * (nanoseconds are truncated; cryptofeed's decimal seconds are converted exactly, truncated past 6 digits).
 *
 * @module
 */

/** One line of a fixture file. */
export type FixtureRecord =
  /** A WebSocket text frame as received (a combined-stream envelope). */
  | { kind: "ws"; localTimeUs: number; text: string }
  /** A REST response body; `url` is null in hftbacktest files (the body is a depth snapshot). */
  | { kind: "http"; localTimeUs: number; url: string | null; text: string }
  /** A WebSocket connection being opened (cryptofeed). */
  | { kind: "connect"; localTimeUs: number; url: string }
  /** The recorder's own configuration (cryptofeed); not Binance data. */
  | { kind: "config"; localTimeUs: null; text: string };

/** A fixture line that matches neither recorder format. */
export class FixtureFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FixtureFormatError";
  }
}

const FIXTURES = new URL("./fixtures/", import.meta.url);

/** Absolute path of a file under `tests/fixtures/`, e.g. `fixturePath("binance/hftbacktest/LICENSE.txt")`. */
export function fixturePath(relPath: string): string {
  return new URL(relPath, FIXTURES).pathname;
}

/**
 * Streams the records of one gzip fixture file, in file order. Blank lines are skipped.
 *
 * @param relPath path under `tests/fixtures/`, e.g. `"binance/hftbacktest/spot/btcusdt_20240808.gz"`.
 * @throws {FixtureFormatError} on a line of neither format (with file and line number).
 */
export async function* readFixtureLines(relPath: string): AsyncIterable<FixtureRecord> {
  const file = await Deno.open(fixturePath(relPath));
  const text = file.readable
    .pipeThrough(new DecompressionStream("gzip"))
    .pipeThrough(new TextDecoderStream());
  let rest = "";
  let lineNo = 0;
  for await (const chunk of text) {
    rest += chunk;
    let start = 0;
    let end: number;
    while ((end = rest.indexOf("\n", start)) !== -1) {
      lineNo++;
      const record = parseLine(rest.slice(start, end), relPath, lineNo);
      if (record !== null) yield record;
      start = end + 1;
    }
    rest = rest.slice(start);
  }
  const record = parseLine(rest, relPath, lineNo + 1);
  if (record !== null) yield record;
}

/**
 * Reads several fixture files fully and merges them by local time, keeping each file's own order (for
 * cryptofeed's split `X.http.0.0` / `X.ws.1.0` recordings of one session). Ties go to the earlier file.
 */
export async function readFixtureRecords(...relPaths: string[]): Promise<FixtureRecord[]> {
  const files: FixtureRecord[][] = [];
  for (const relPath of relPaths) files.push(await Array.fromAsync(readFixtureLines(relPath)));
  const keys = files.map(effectiveTimes);
  const heads = files.map(() => 0);
  const merged: FixtureRecord[] = [];
  for (;;) {
    let pick = -1;
    for (let f = 0; f < files.length; f++) {
      if (
        heads[f]! < files[f]!.length && (pick === -1 || keys[f]![heads[f]!]! < keys[pick]![heads[pick]!]!)
      ) {
        pick = f;
      }
    }
    if (pick === -1) return merged;
    merged.push(files[pick]![heads[pick]!]!);
    heads[pick]!++;
  }
}

/** Records without a time (configuration) sort with the record before them. */
function effectiveTimes(records: FixtureRecord[]): number[] {
  let last = -Infinity;
  return records.map((r) => (last = r.localTimeUs ?? last));
}

const HFT_LINE = /^(\d{10,})(\d{3}) /;
const CF_FRAME = /^(\d+)(?:\.(\d*))?: /;
const CF_HTTP = /^(https?:\/\/\S+) -> (\d+)(?:\.(\d*))?: /;
const CF_CONNECT = /^(wss?:\/\/\S+) <-> (\d+)(?:\.(\d*))?$/;
const CONFIG_PREFIX = "configuration: ";

function parseLine(line: string, relPath: string, lineNo: number): FixtureRecord | null {
  if (line.trim() === "") return null;
  let m = HFT_LINE.exec(line);
  if (m !== null) {
    const text = line.slice(m[0].length);
    const localTimeUs = Number(m[1]);
    return text.startsWith('{"stream"')
      ? { kind: "ws", localTimeUs, text }
      : { kind: "http", localTimeUs, url: null, text };
  }
  if ((m = CF_FRAME.exec(line)) !== null) {
    return { kind: "ws", localTimeUs: secondsToUs(m[1]!, m[2]), text: line.slice(m[0].length) };
  }
  if ((m = CF_HTTP.exec(line)) !== null) {
    return { kind: "http", localTimeUs: secondsToUs(m[2]!, m[3]), url: m[1]!, text: line.slice(m[0].length) };
  }
  if ((m = CF_CONNECT.exec(line)) !== null) {
    return { kind: "connect", localTimeUs: secondsToUs(m[2]!, m[3]), url: m[1]! };
  }
  if (line.startsWith(CONFIG_PREFIX)) {
    return { kind: "config", localTimeUs: null, text: line.slice(CONFIG_PREFIX.length) };
  }
  throw new FixtureFormatError(
    `Cannot parse ${relPath} line ${lineNo}: unknown format: ${line.slice(0, 80)}`,
  );
}

/** Decimal seconds to integer microseconds without floating-point rounding. */
function secondsToUs(whole: string, fraction: string | undefined): number {
  return Number(whole) * 1_000_000 + Number((fraction ?? "").padEnd(6, "0").slice(0, 6));
}
