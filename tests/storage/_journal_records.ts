/** Journal records with a spread of sizes and scripts, shared by the journal tests. */
import type { JournalRecord } from "../../lib/storage/journal.ts";

const SYMBOLS = ["", "BTCUSDT", "测试USDT", "币安人生USDT", "ETHUSDT"];

/** Record `i` of a deterministic sequence: unicode symbols and text, empty fields, long frames. */
export function record(i: number): JournalRecord {
  const text = i % 7 === 0
    ? ""
    : `{"stream":"x@depth","data":{"i":${i},"note":"${"ü€😀".repeat(i % 5)}","pad":"${
      "x".repeat((i * 37) % 900)
    }"}}`;
  return {
    localUs: 1_700_000_000_000_000 + i * 123,
    market: i % 3 === 0 ? "usdm" : "spot",
    conn: (i * 2_654_435_761) % 2 ** 32,
    kind: i % 256,
    symbol: SYMBOLS[i % SYMBOLS.length]!,
    text,
  };
}
