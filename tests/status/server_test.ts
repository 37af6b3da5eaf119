import assert from "node:assert/strict";
import { METRICS_CONTENT_TYPE, renderMetrics } from "../../lib/status/metrics.ts";
import {
  type HealthDocument,
  startStatusServer,
  type StatusDocument,
  StatusServerError,
} from "../../lib/status/server.ts";
import { FAKE_SYMBOLS, fakeMarketSnapshot, FakeStatusSource } from "./fake_source.ts";

async function withServer(fn: (url: string, source: FakeStatusSource) => Promise<void>): Promise<void> {
  const source = new FakeStatusSource();
  const server = startStatusServer({ hostname: "127.0.0.1", port: 0, source });
  try {
    await fn(server.url, source);
  } finally {
    await server.close();
  }
}

Deno.test("startStatusServer() serves the page at / with a CSP that allows nothing external", async () => {
  await withServer(async (url) => {
    const res = await fetch(`${url}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'.*connect-src 'self'/);
    assert.match(await res.text(), /<title>Binance collector<\/title>/);
  });
});

Deno.test("startStatusServer() /status.json is a fresh summary: market totals, symbols, health", async () => {
  await withServer(async (url, source) => {
    const first = await (await fetch(`${url}/status.json`)).json() as StatusDocument;
    const res = await fetch(`${url}/status.json`);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const second = await res.json() as StatusDocument;
    assert.equal(source.tick, 2);
    assert.deepEqual(second.symbols.map((s) => s.symbol).sort(), [...FAKE_SYMBOLS, "BTCUSDT"].sort());
    assert.equal(second.moreSymbols, 0);
    assert.deepEqual(second.health, { ok: true, problemCount: 0, problems: [] });
    assert.deepEqual(second.markets.map((m) => [m.market, m.symbols, m.streams]), [["spot", 3, 9], [
      "usdm",
      1,
      2,
    ]]);
    assert.ok(second.markets[0]!.messages > first.markets[0]!.messages);
    assert.equal("streams" in second, false, "no per-stream list: the document does not grow with symbols");
  });
});

Deno.test("startStatusServer() /status.json stays small with the whole market, worst symbols first", async () => {
  const source = { snapshot: () => fakeMarketSnapshot(1500, 500) };
  const server = startStatusServer({ hostname: "127.0.0.1", port: 0, source });
  try {
    const body = await (await fetch(`${server.url}/status.json`)).text();
    assert.ok(body.length < 20_000, `${body.length} bytes`);
    const doc = JSON.parse(body) as StatusDocument;
    assert.deepEqual(doc.symbols.slice(0, 3).map((s) => [s.market, s.symbol, s.state]), [
      ["spot", "S7USDT", "down"],
      ["usdm", "F3USDT", "book"],
      ["spot", "S11USDT", "stale"],
    ]);
    assert.equal(doc.symbols.length, 25);
    assert.equal(doc.moreSymbols, 2000 - 25);
    assert.deepEqual(doc.markets.map((m) => m.symbols), [1500, 500]);
    assert.equal(doc.health.problemCount, 4 + 1 + 1);
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 503);
    assert.equal((await health.json() as HealthDocument).problemCount, 6);
  } finally {
    await server.close();
  }
});

Deno.test("startStatusServer() /health is 200 when all is live, 503 with the reasons otherwise", async () => {
  await withServer(async (url, source) => {
    const ok = await fetch(`${url}/health`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { ok: true, problemCount: 0, problems: [] });

    source.edit = (s) => {
      s.streams.find((x) => x.symbol === "SOLUSDT" && x.stream === "aggTrade")!.connected = false;
      s.books.find((b) => b.market === "usdm")!.state = "buffering";
    };
    const bad = await fetch(`${url}/health`);
    assert.equal(bad.status, 503);
    assert.equal(bad.headers.get("content-type"), "application/json; charset=utf-8");
    assert.deepEqual(await bad.json() as HealthDocument, {
      ok: false,
      problemCount: 2,
      problems: [
        { market: "spot", symbol: "SOLUSDT", stream: "aggTrade", problem: "disconnected" },
        { market: "usdm", symbol: "BTCUSDT", stream: null, problem: "book buffering" },
      ],
    });
  });
});

Deno.test("startStatusServer() /metrics is Prometheus text of the current snapshot", async () => {
  await withServer(async (url, source) => {
    source.tick = 5;
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), METRICS_CONTENT_TYPE);
    const text = await res.text();
    assert.match(text, /^binance_collector_rest_weight_used\{market="spot"\} 25$/m);
    assert.match(text, /^binance_collector_book_resyncs_total\{market="usdm",symbol="BTCUSDT"\} 1$/m);
  });
});

Deno.test("startStatusServer() /metrics with the whole market: the whole text, streamed, gzip when asked", async () => {
  const snapshot = fakeMarketSnapshot(1500, 500);
  const server = startStatusServer({ hostname: "127.0.0.1", port: 0, source: { snapshot: () => snapshot } });
  try {
    // Prometheus asks for gzip: a whole market's text is ~7 MB, ~0.45 MB compressed.
    const res = await fetch(`${server.url}/metrics`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-encoding"), "gzip");
    assert.equal(res.headers.get("content-type"), METRICS_CONTENT_TYPE);
    assert.equal(await res.text(), renderMetrics(snapshot), "fetch decompresses: the same text, every piece");
    const plain = await fetch(`${server.url}/metrics`, { headers: { "accept-encoding": "identity" } });
    assert.equal(plain.headers.get("content-encoding"), null);
    assert.equal((await plain.text()).length, renderMetrics(snapshot).length);
  } finally {
    await server.close();
  }
});

Deno.test("startStatusServer() /metrics per-symbol series: the server's default, ?per_symbol= overrides it", async () => {
  const snapshot = fakeMarketSnapshot(30, 10);
  const full = renderMetrics(snapshot);
  const totals = renderMetrics(snapshot, { perSymbol: false });
  assert.notEqual(full, totals);
  for (const metricsPerSymbol of [undefined, true, false]) {
    const server = startStatusServer({
      hostname: "127.0.0.1",
      port: 0,
      source: { snapshot: () => snapshot },
      metricsPerSymbol,
    });
    try {
      const get = async (query: string) => {
        const res = await fetch(`${server.url}/metrics${query}`);
        return { status: res.status, text: await res.text() };
      };
      assert.deepEqual(await get(""), { status: 200, text: metricsPerSymbol === false ? totals : full });
      assert.deepEqual(await get("?per_symbol=0"), { status: 200, text: totals });
      assert.deepEqual(await get("?per_symbol=false"), { status: 200, text: totals });
      assert.deepEqual(await get("?per_symbol=1"), { status: 200, text: full });
      assert.deepEqual(await get("?per_symbol=yes"), {
        status: 400,
        text: "per_symbol must be 0, 1, false or true\n",
      });
    } finally {
      await server.close();
    }
  }
});

Deno.test("StatusServer.close() does not wait for a client that stopped reading /metrics", async () => {
  const server = startStatusServer({
    hostname: "127.0.0.1",
    port: 0,
    source: { snapshot: () => fakeMarketSnapshot(1500, 500) },
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await conn.write(new TextEncoder().encode("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    // The answer (~7 MB) fills the socket's buffers; this client never reads it.
    const first = new Uint8Array(1024);
    assert.ok((await conn.read(first)) !== null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      server.close().then(() => "closed"),
      new Promise<string>((resolve) => timer = setTimeout(() => resolve("still waiting after 5 s"), 5000)),
    ]);
    clearTimeout(timer);
    assert.equal(outcome, "closed");
  } finally {
    conn.close();
  }
});

Deno.test("startStatusServer() answers 503 on /health and 500 elsewhere when the source fails", async () => {
  await withServer(async (url, source) => {
    source.failure = new Error("ledger closed");
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 503);
    assert.deepEqual(await health.json(), {
      ok: false,
      problemCount: 1,
      problems: [{
        market: null,
        symbol: null,
        stream: null,
        problem: "status snapshot failed: Error: ledger closed",
      }],
    });
    const metrics = await fetch(`${url}/metrics`);
    assert.equal(metrics.status, 500);
    assert.match(await metrics.text(), /ledger closed/);
    // The page itself needs no snapshot: it still loads and shows the failure when it polls.
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    await page.body?.cancel();
  });
});

Deno.test("startStatusServer() rejects other paths and methods", async () => {
  await withServer(async (url, source) => {
    const missing = await fetch(`${url}/status`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const post = await fetch(`${url}/health`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();
    assert.equal(source.tick, 0);
  });
});

Deno.test("StatusServer.close() stops listening and can be called twice", async () => {
  const server = startStatusServer({ hostname: "127.0.0.1", port: 0, source: new FakeStatusSource() });
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  await Promise.all([server.close(), server.close()]);
  await assert.rejects(fetch(`${server.url}/health`), TypeError);
});

Deno.test("startStatusServer() throws StatusServerError when the port is taken", async () => {
  const first = startStatusServer({ hostname: "127.0.0.1", port: 0, source: new FakeStatusSource() });
  try {
    assert.throws(
      () => startStatusServer({ hostname: "127.0.0.1", port: first.port, source: new FakeStatusSource() }),
      (err: unknown) =>
        err instanceof StatusServerError && err.name === "StatusServerError" &&
        err.cause instanceof Deno.errors.AddrInUse && err.message.includes(`127.0.0.1:${first.port}`),
    );
  } finally {
    await first.close();
  }
});
