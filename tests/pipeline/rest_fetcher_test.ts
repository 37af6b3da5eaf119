/**
 * REST snapshot answers are journaled one per event-loop turn, stamped with their arrival: a weight window's
 * worth of snapshots (hundreds at the whole market) arrives at once and would otherwise stall the feed for as
 * long as it takes to turn them all into rows.
 */
import assert from "node:assert/strict";
import type { RestClient } from "../../lib/binance/rest.ts";
import { nextTurn } from "../../lib/loop_lag.ts";
import type { JournalRecord } from "../../lib/pipeline/records.ts";
import { RestFetcher } from "../../lib/pipeline/rest_fetcher.ts";

function setup() {
  let nowUs = 1_000;
  const answers = new Map<string, (v: { text: string }) => void>();
  const requested: string[] = [];
  const rest = {
    depth: (symbol: string) => {
      requested.push(symbol);
      return new Promise<{ text: string }>((resolve) => answers.set(symbol, resolve));
    },
  } as unknown as RestClient;
  const recorded: JournalRecord[] = [];
  let stopping = false;
  const fetcher = new RestFetcher({
    market: "spot",
    rest,
    depthLimit: 1000,
    record: (rec) => recorded.push(rec),
    stopping: () => stopping,
    synced: () => false,
    log: () => {},
    clock: { nowUs: () => nowUs, nowMs: () => nowUs / 1000 },
  });
  return {
    fetcher,
    requested,
    recorded,
    answer: (symbol: string) => answers.get(symbol)!({ text: `{"lastUpdateId":1,"of":"${symbol}"}` }),
    setNow: (us: number) => (nowUs = us),
    stop: () => (stopping = true),
  };
}

const SYMBOLS = ["AUSDT", "BUSDT", "CUSDT", "DUSDT", "EUSDT"];

Deno.test("RestFetcher: snapshot answers that arrive together are journaled one per turn, stamped on arrival", async () => {
  const t = setup();
  for (const s of SYMBOLS) t.fetcher.snapshot(s);
  assert.deepEqual(t.requested, SYMBOLS);
  t.setNow(2_000);
  for (const s of SYMBOLS) t.answer(s);
  for (let i = 0; i < 5; i++) await Promise.resolve(); // the answers' promise callbacks run, in this turn
  assert.equal(t.recorded.length, 1, "one answer journaled in the turn they arrived in");
  t.setNow(9_000);
  // Still in flight until journaled: asking again for the four waiting costs no weight.
  for (const s of SYMBOLS.slice(1)) t.fetcher.snapshot(s);
  assert.deepEqual(t.requested, SYMBOLS);
  for (let turn = 2; turn <= 5; turn++) {
    await nextTurn();
    assert.equal(t.recorded.length, turn);
  }
  assert.deepEqual(t.recorded.map((r) => r.symbol), SYMBOLS, "in arrival order");
  assert.ok(t.recorded.every((r) => r.localUs === 2_000), "stamped when they arrived, not when journaled");
  // Journaled, so a new request goes out.
  t.fetcher.snapshot("EUSDT");
  assert.deepEqual(t.requested, [...SYMBOLS, "EUSDT"]);
});

Deno.test("RestFetcher: answers still waiting at a stop or close are dropped", async () => {
  const t = setup();
  for (const s of SYMBOLS) t.fetcher.snapshot(s);
  for (const s of SYMBOLS) t.answer(s);
  for (let i = 0; i < 5; i++) await Promise.resolve();
  assert.equal(t.recorded.length, 1);
  await nextTurn();
  assert.equal(t.recorded.length, 2);
  t.stop();
  t.fetcher.close();
  for (let i = 0; i < 5; i++) await nextTurn();
  assert.equal(t.recorded.length, 2);
});
