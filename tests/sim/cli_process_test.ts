/**
 * `deno task sim --symbols all` as a user runs it: a real process (the task's command line from deno.json),
 * observed from outside over HTTP and WebSocket, stopped with Ctrl-C.
 */
import assert from "node:assert/strict";
import { denoTaskArgs } from "../_deno_tasks.ts";
import { payload, TestClient } from "./_client.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function simCommand(args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [...denoTaskArgs("sim"), ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  });
}

async function getJson(url: string): Promise<{ headers: Headers; body: unknown }> {
  const res = await fetch(url);
  return { headers: res.headers, body: await res.json() };
}

Deno.test("deno task sim --symbols all serves a whole market (COIN-M too), lists at run time, stops on Ctrl-C", async () => {
  const child = simCommand(["--symbols", "all", "--seed", "3", "--list", "spot:ZZNEWUSDT@1500"]).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    while (!/Ctrl-C/.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`simulator exited early: ${out}`);
      out += value;
    }
    assert.match(out, /symbols all: 1500 spot, 500 usdm, 40 coinm/);
    const spotRest = /spot\s+REST (\S+)/.exec(out)![1]!;
    const spotWs = /spot\s+REST \S+\s+WS (\S+)/.exec(out)![1]!;
    const usdmRest = /usdm\s+REST (\S+)/.exec(out)![1]!;
    const spot = (await getJson(`${spotRest}/api/v3/exchangeInfo`)).body as {
      symbols: { symbol: string; status: string }[];
    };
    const usdm = (await getJson(`${usdmRest}/fapi/v1/exchangeInfo`)).body as {
      symbols: { symbol: string }[];
    };
    // The run-time listing (ZZNEWUSDT at 1.5 s) may already be in on a slow machine.
    const initial = spot.symbols.filter((s) => s.symbol !== "ZZNEWUSDT");
    assert.equal(initial.length, 1500);
    assert.equal(usdm.symbols.length, 500);
    const tickers = await getJson(`${spotRest}/api/v3/ticker/24hr`);
    assert.equal(tickers.headers.get("x-mbx-used-weight-1m"), "100", "exchangeInfo 20 + all tickers 80");
    const volumes = new Map(
      (tickers.body as { symbol: string; quoteVolume: string }[]).map((
        t,
      ) => [t.symbol, Number(t.quoteVolume)]),
    );
    assert.ok(initial.every((s) => volumes.has(s.symbol)));
    const tail = initial.findLast((s) => s.status === "TRADING")!.symbol;
    assert.ok(volumes.get("BTCUSDT")! > 100 * volumes.get(tail)! && volumes.get(tail)! > 0);
    // The busiest and a tail symbol both stream.
    const client = await TestClient.open(
      `${spotWs}/stream?streams=btcusdt@aggTrade/${tail.toLowerCase()}@kline_1s`,
    );
    await client.waitFor((f) => payload(f)?.e === "aggTrade", { timeoutMs: 10_000 });
    await client.waitFor((f) => payload(f)?.e === "kline", { timeoutMs: 10_000 });
    await client.close();
    const coinmRest = /coinm\s+REST (\S+)/.exec(out)![1]!;
    const coinmWs = /coinm\s+REST \S+\s+WS (\S+)/.exec(out)![1]!;
    const coinm = (await getJson(`${coinmRest}/dapi/v1/exchangeInfo`)).body as {
      symbols: { symbol: string; contractType: string; contractStatus: string }[];
    };
    assert.equal(coinm.symbols.length, 40);
    assert.ok(coinm.symbols.every((s) => s.contractStatus === "TRADING"));
    assert.deepEqual(
      coinm.symbols.filter((s) => s.symbol.startsWith("BTCUSD_")).map((s) => s.contractType),
      ["PERPETUAL", "CURRENT_QUARTER", "NEXT_QUARTER"],
    );
    const perp = await TestClient.open(`${coinmWs}/ws/btcusd_perp@depth@100ms`);
    const [diff] = await perp.waitFor((f) => payload(f)?.e === "depthUpdate", { timeoutMs: 10_000 });
    assert.equal(payload(diff!)?.ps, "BTCUSD");
    await perp.close();
    // --list spot:ZZNEWUSDT@1500 appears as TRADING.
    const deadline = Date.now() + 10_000;
    for (let listed = false; !listed;) {
      assert.ok(Date.now() < deadline, "ZZNEWUSDT was never listed");
      const info = (await getJson(`${spotRest}/api/v3/exchangeInfo?symbol=ZZNEWUSDT`)).body as {
        code?: number;
        symbols?: { status: string }[];
      };
      listed = info.symbols?.[0]?.status === "TRADING";
      if (!listed) {
        assert.equal(info.code, -1121, "unknown until listed");
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    child.kill("SIGINT");
  }
  while (!(await reader.read()).done) { /* until the process closes stdout */ }
  const status = await child.status;
  await child.stderr.cancel();
  assert.equal(status.code, 0);
});
