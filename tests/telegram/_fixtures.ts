/** Shared test inputs: a configuration of two markets, a status source over it, and sources without data. */

import { dayFromRows } from "../../lib/charts/day_coverage.ts";
import type { DiskSpace } from "../../lib/disk.ts";
import type { MarketSymbols } from "../../lib/telegram/args.ts";
import type { CommandSettings, TelegramSources } from "../../lib/telegram/commands.ts";
import type { SymbolStatus } from "../../lib/telegram/format.ts";

export const MARKETS: MarketSymbols[] = [
  { market: "spot", symbols: ["BTCUSDT", "ETHUSDT"] },
  { market: "usdm", symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"] },
];

export const SETTINGS: CommandSettings = {
  markets: MARKETS,
  dataDir: "/srv/binance/data",
  clockOffsetAlertMs: 100,
  diskLowMb: 5120,
  diskMinMb: 512,
};

/** Every configured symbol connected and synced, with distinct ages and rates; usdm SOLUSDT is down. */
export function statusRows(): SymbolStatus[] {
  return MARKETS.flatMap((m, i) =>
    m.symbols.map((symbol, j): SymbolStatus => {
      const down = m.market === "usdm" && symbol === "SOLUSDT";
      return {
        market: m.market,
        symbol,
        connected: !down,
        book: down ? "buffering" : "synced",
        lastMessageAgeMs: down ? 65_000 : 100 * (i + j + 1),
        msgsPerSec: down ? 0 : 10 * (i + 1) + j + 0.5,
      };
    })
  );
}

/** Sources whose ledger is empty; `disk` is what `diskSpace()` answers. */
export function emptySources(
  disk: DiskSpace = { freeBytes: 80 * 2 ** 30, totalBytes: 250 * 2 ** 30 },
): TelegramSources {
  return {
    status: statusRows,
    ledger: {
      listGaps: () => Promise.resolve([]),
      listClockSamples: () => Promise.resolve([]),
    },
    coverageDay: (date) => Promise.resolve(dayFromRows(date, [], [])),
    dailyInput: (date) =>
      Promise.resolve({
        date,
        coverage: dayFromRows(date, [], []),
        files: [],
        flushes: [],
        clock: [],
      }),
    diskSpace: () => Promise.resolve(disk),
  };
}
