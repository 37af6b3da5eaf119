import assert from "node:assert/strict";
import { CliUsageError, parseSimArgs } from "../../lib/sim/cli.ts";

Deno.test("parseSimArgs maps flags to simulator options and faults", () => {
  const cmd = parseSimArgs([
    "--port",
    "9000",
    "--symbols",
    "BTCUSDT, SOLUSDT",
    "--seed",
    "5",
    "--rate",
    "1000",
    "--tick-ms",
    "0",
    "--truth",
    "t.jsonl",
    "--drop-diffs",
    "0.01",
    "--rest-429",
    "0.5",
    "--unknown-fields",
    "--lifetime",
    "60000",
    "--disconnect-every",
    "30000",
    "--weight-usdm",
    "100",
  ]);
  assert.equal(cmd.help, false);
  if (cmd.help) return;
  const o = cmd.options;
  assert.deepEqual([o.port, o.symbols, o.seed, o.rate, o.tickMs, o.truthFile, o.lifetimeMs], [
    9000,
    ["BTCUSDT", "SOLUSDT"],
    5,
    1000,
    0,
    "t.jsonl",
    60000,
  ]);
  assert.deepEqual(o.weightPerMinute, { usdm: 100 });
  assert.deepEqual(o.faults, {
    dropDiffs: { probability: 0.01 },
    rest: { errorProbability: undefined, rateLimitProbability: 0.5, hangProbability: undefined },
    unknownFields: true,
    disconnect: { everyMs: 30000 },
  });
});

Deno.test("parseSimArgs defaults, help and errors", () => {
  const cmd = parseSimArgs([]);
  assert.ok(!cmd.help && String(cmd.options.symbols) === "BTCUSDT,ETHUSDT,BTCUSD_PERP");
  assert.deepEqual(parseSimArgs(["--help"]), { help: true });
  assert.throws(() => parseSimArgs(["--drop-diffs", "2"]), CliUsageError);
  assert.throws(() => parseSimArgs(["--port", "abc"]), CliUsageError);
  assert.throws(() => parseSimArgs(["--bogus"]), CliUsageError);
  assert.throws(() => parseSimArgs(["--symbols", ","]), CliUsageError);
});

Deno.test("parseSimArgs: --symbols all, universe sizes and listing changes", () => {
  const cmd = parseSimArgs([
    "--symbols",
    "all",
    "--universe",
    "300,100",
    "--list",
    "spot:NEWUSDT@5000",
    "--list",
    "usdm:newusdt",
    "--delist",
    "usdm:XRPUSDT@60000",
    "--halt",
    "spot:ETHBTC",
    "--resume",
    "spot:ETHBTC@9000",
  ]);
  assert.ok(!cmd.help);
  if (cmd.help) return;
  assert.equal(cmd.options.symbols, "all");
  assert.deepEqual(cmd.options.universe, { spot: 300, usdm: 100 });
  assert.deepEqual(cmd.options.faults?.listingChanges, [
    { action: "list", market: "spot", symbol: "NEWUSDT", afterMs: 5000 },
    { action: "list", market: "usdm", symbol: "NEWUSDT" },
    { action: "delist", market: "usdm", symbol: "XRPUSDT", afterMs: 60000 },
    { action: "halt", market: "spot", symbol: "ETHBTC" },
    { action: "resume", market: "spot", symbol: "ETHBTC", afterMs: 9000 },
  ]);
  const coinm = parseSimArgs([
    "--symbols",
    "all",
    "--universe",
    "30,10,8",
    "--deliver",
    "coinm:BTCUSD_261225@3000",
    "--weight-coinm",
    "300",
  ]);
  assert.ok(!coinm.help);
  if (coinm.help) return;
  assert.deepEqual(coinm.options.universe, { spot: 30, usdm: 10, coinm: 8 });
  assert.deepEqual(coinm.options.weightPerMinute, { coinm: 300 });
  assert.deepEqual(coinm.options.faults?.listingChanges, [
    { action: "deliver", market: "coinm", symbol: "BTCUSD_261225", afterMs: 3000 },
  ]);
  assert.throws(() => parseSimArgs(["--symbols", "all", "--universe", "1,2,3,4"]), /SPOT,USDM\[,COINM\]/);
  assert.throws(() => parseSimArgs(["--list", "NEWUSDT"]), /MARKET:SYMBOL/);
  assert.throws(() => parseSimArgs(["--halt", "options:BTCUSD"]), /MARKET:SYMBOL/);
  assert.throws(() => parseSimArgs(["--delist", "spot:BTC-USDT"]), /MARKET:SYMBOL/);
  assert.throws(() => parseSimArgs(["--symbols", "all", "--universe", "300"]), /SPOT,USDM/);
  assert.throws(() => parseSimArgs(["--universe", "300,100"]), /without --symbols all/);
});
