/**
 * How a merge (hour_merge.ts) walks its sources, planned from the row groups' `symbol` ranges alone (no rows
 * read): the symbol windows whose rows are sorted at once, and the sorted runs the sources hold (a part file is
 * sorted by symbol in stretches of a few MiB, one per encoded chunk), gathered into batches that a first pass
 * merges into runs of their own when there are too many for one.
 * @module
 */

import { compareSymbols } from "./chunk_encoder.ts";

/** A row group's place in a merge: its symbol range (`null` when it holds no rows), rows and size. */
export interface PlannedGroup {
  lo: string | null;
  hi: string | null;
  rows: number;
  /** Approximate bytes of its rows once decoded (as {@link RawChunk.bytes}). */
  bytes: number;
}

/**
 * A symbol range `[from, to)` (`null`: unbounded) whose rows are sorted at once; `single` when it can hold one
 * symbol only, whose rows may then stream out before the window is complete.
 */
export interface Span {
  from: string | null;
  to: string | null;
  single: boolean;
}

/** The string right after `s` in symbol order: `[s, after(s))` holds `s` alone. */
const after = (s: string) => `${s}\0`;

/**
 * Consecutive symbol ranges of about `windowBytes` each: a group of one symbol counts for that symbol, a group
 * of several (small by construction: groups are cut at the first symbol change past their minimum size) for its
 * first; a symbol whose own groups exceed the window gets a `single` window.
 */
export function planWindows(groups: Iterable<PlannedGroup>, windowBytes: number): Span[] {
  const own = new Map<string, number>();
  const shared = new Map<string, number>();
  const keys = new Set<string>();
  for (const g of groups) {
    if (g.lo === null || g.hi === null) continue; // no rows
    keys.add(g.lo).add(g.hi);
    const m = g.lo === g.hi ? own : shared;
    m.set(g.lo, (m.get(g.lo) ?? 0) + g.bytes);
  }
  const spans: Span[] = [];
  let from: string | null = null;
  let bytes = 0;
  for (const s of [...keys].sort(compareSymbols)) {
    const mine = own.get(s) ?? 0;
    if (mine >= windowBytes) {
      // The rows before `s`: none only if `s` is the first symbol of all (`from` unset and nothing counted).
      if (from !== null || bytes > 0) spans.push({ from, to: s, single: false });
      spans.push({ from: s, to: after(s), single: true });
      from = after(s);
      bytes = shared.get(s) ?? 0;
      continue;
    }
    bytes += mine + (shared.get(s) ?? 0);
    if (bytes >= windowBytes) {
      spans.push({ from, to: after(s), single: false });
      from = after(s);
      bytes = 0;
    }
  }
  spans.push({ from, to: null, single: false });
  return spans;
}

/** Whether symbol `s` is in window `w`. */
export const inSpan = (w: Span, s: string): boolean =>
  (w.from === null || compareSymbols(s, w.from) >= 0) && (w.to === null || compareSymbols(s, w.to) < 0);

/** Whether a group of symbols `[lo, hi]` has rows in window `w`. */
export const overlaps = (w: Span, lo: string, hi: string): boolean =>
  (w.from === null || compareSymbols(hi, w.from) >= 0) && (w.to === null || compareSymbols(lo, w.to) < 0);

/**
 * The indexes of `groups` (one file's, in file order) where a sorted run starts: at the first group with rows,
 * then wherever the symbols go back (a new chunk of the file). Groups without rows belong to the run before.
 */
export function runStarts(groups: readonly PlannedGroup[]): number[] {
  const starts: number[] = [];
  let last: string | null = null;
  groups.forEach((g, i) => {
    if (g.lo === null || g.hi === null) return;
    if (last === null || compareSymbols(g.lo, last) < 0) starts.push(i);
    last = g.hi;
  });
  return starts;
}

/** A stretch `[from, to)` of a source's groups. */
export interface Stretch {
  source: number;
  from: number;
  to: number;
}

/**
 * The sources' groups, in order, cut into consecutive batches of at most `maxRuns` sorted runs each (a batch
 * may end inside a source): every window of a merge reads a group of each run it covers, so a merge of many
 * runs reads each group many times; merging batches first makes each a run of its own. One batch if the runs
 * fit.
 */
export function batchRuns(sources: readonly (readonly PlannedGroup[])[], maxRuns: number): Stretch[][] {
  const batches: Stretch[][] = [[]];
  let runs = 0;
  sources.forEach((groups, source) => {
    let from = 0;
    for (const start of runStarts(groups)) {
      if (runs === maxRuns) {
        if (start > from) batches.at(-1)!.push({ source, from, to: start });
        batches.push([]);
        from = start;
        runs = 0;
      }
      runs++;
    }
    if (groups.length > from) batches.at(-1)!.push({ source, from, to: groups.length });
  });
  return batches.filter((b) => b.length > 0);
}
