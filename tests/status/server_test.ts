import assert from "node:assert/strict";
import type { Health } from "../../lib/status/health.ts";
import { METRICS_CONTENT_TYPE } from "../../lib/status/metrics.ts";
import { startStatusServer, type StatusDocument, StatusServerError } from "../../lib/status/server.ts";
import { FAKE_SYMBOLS, FakeStatusSource } from "./fake_source.ts";

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

Deno.test("startStatusServer() /status.json is a fresh snapshot with its health", async () => {
  await withServer(async (url, source) => {
    const first = await (await fetch(`${url}/status.json`)).json() as StatusDocument;
    const res = await fetch(`${url}/status.json`);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const second = await res.json() as StatusDocument;
    assert.equal(source.tick, 2);
    assert.deepEqual([...new Set(second.streams.map((s) => s.symbol))], [...FAKE_SYMBOLS]);
    assert.deepEqual(second.health, { ok: true, problems: [] });
    assert.ok(second.streams[0]!.messages > first.streams[0]!.messages);
  });
});

Deno.test("startStatusServer() /health is 200 when all is live, 503 with the reasons otherwise", async () => {
  await withServer(async (url, source) => {
    const ok = await fetch(`${url}/health`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { ok: true, problems: [] });

    source.edit = (s) => {
      s.streams.find((x) => x.symbol === "SOLUSDT" && x.stream === "aggTrade")!.connected = false;
      s.books.find((b) => b.market === "usdm")!.state = "buffering";
    };
    const bad = await fetch(`${url}/health`);
    assert.equal(bad.status, 503);
    assert.equal(bad.headers.get("content-type"), "application/json; charset=utf-8");
    assert.deepEqual(await bad.json() as Health, {
      ok: false,
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

Deno.test("startStatusServer() answers 503 on /health and 500 elsewhere when the source fails", async () => {
  await withServer(async (url, source) => {
    source.failure = new Error("ledger closed");
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 503);
    assert.deepEqual(await health.json(), {
      ok: false,
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
