import assert from "node:assert/strict";
import { nowUs } from "../../lib/clock.ts";
import { ConnectBudget, ReconnectPolicy } from "../../lib/binance/reconnect_policy.ts";
import { StreamConnection, type StreamConnectionOptions } from "../../lib/binance/connection.ts";
import type { CloseInfo, OpenInfo, SubscribeFailure } from "../../lib/binance/connection_handlers.ts";
import { planStreams } from "../../lib/binance/stream_plan.ts";
import type { Market } from "../../lib/binance/types.ts";
import { ack, type Received, startServer, type TestServer, waitFor } from "./_ws_server.ts";

interface Frame {
  text: string;
  localUs: number;
  connId: number;
}

/** A connection to `server` whose callbacks are recorded. */
function connect(
  server: TestServer,
  options: Partial<StreamConnectionOptions> & { symbols?: number; market?: Market } = {},
) {
  const symbols = Array.from({ length: options.symbols ?? 2 }, (_, i) => `S${i}USDT`);
  const plan = planStreams({
    market: options.market ?? "spot",
    wsUrl: server.baseUrl,
    symbols,
    streams: ["aggTrade"],
  }).connections[0]!;
  const frames: Frame[] = [];
  const opens: [number, OpenInfo][] = [];
  const subscribed: number[] = [];
  const failures: [number, SubscribeFailure][] = [];
  const closes: [number, CloseInfo][] = [];
  const lifetime: number[] = [];
  const bad: [number, unknown][] = [];
  let id = 100;
  const conn = new StreamConnection({
    plan,
    nextConnId: () => ++id,
    reconnect: new ReconnectPolicy({ quickMs: 40, random: () => 1, refusedMs: 80 }),
    ...options,
    handlers: {
      onFrame: (text, localUs, connId) => frames.push({ text, localUs, connId }),
      onOpen: (connId, info) => opens.push([connId, info]),
      onSubscribed: (connId) => subscribed.push(connId),
      onSubscribeFailed: (connId, f) => failures.push([connId, f]),
      onClose: (connId, info) => closes.push([connId, info]),
      onLifetimeNear: (connId) => lifetime.push(connId),
      onBadFrame: (connId, frame) => bad.push([connId, frame]),
    },
  });
  return { conn, plan, frames, opens, subscribed, failures, closes, lifetime, bad };
}

/** Largest number of messages that arrived within any `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  let max = 0;
  for (let i = 0; i < times.length; i++) {
    let n = 0;
    for (const t of times) if (t >= times[i]! && t < times[i]! + windowMs) n++;
    max = Math.max(max, n);
  }
  return max;
}

const data = (stream: string, n: number) => JSON.stringify({ stream, data: { e: "aggTrade", a: n } });

Deno.test("StreamConnection opens the bare combined endpoint and subscribes every stream in paced batches", async () => {
  const server = startServer();
  const c = connect(server, { symbols: 30, batchSize: 3, pacing: { maxPerWindow: 3, windowMs: 110 } });
  try {
    c.conn.start();
    await waitFor(() => c.subscribed.length === 1, "subscription");
    assert.deepEqual(server.paths, ["/stream"]);
    const subs = server.received.filter((m) => m.method === "SUBSCRIBE");
    assert.equal(subs.length, 10);
    assert.ok(subs.every((m) => m.params.length <= 3));
    assert.deepEqual(subs.flatMap((m) => m.params).sort(), c.plan.streams.map((s) => s.name).sort());
    assert.equal(new Set(subs.map((m) => m.id)).size, 10, "request ids are unique");
    // Strictly under a limit of 4 per 100 ms: never more than 3 arrive in any 100 ms.
    assert.ok(maxInWindow(subs.map((m) => m.atMs), 100) <= 3);
    assert.equal(c.conn.state, "subscribed");
    assert.equal(c.opens.length, 1);
    assert.equal(c.opens[0]![1].attempt, 1);
    assert.deepEqual(c.subscribed, [c.opens[0]![0]]);
  } finally {
    await c.conn.close();
    await server.shutdown();
  }
});

Deno.test("StreamConnection matches replies by id while data frames interleave", async () => {
  const held: Received[] = [];
  const server = startServer({
    onSubscribe(ws, msg) {
      // Data for the batch first, and the replies only once both requests are in, in reverse order.
      for (const p of msg.params) ws.send(data(p, msg.id!));
      held.push(msg);
      if (held.length === 2) {
        for (const m of held.reverse()) {
          ack(ws, m);
          ws.send(data(m.params[0]!, 99));
        }
      }
    },
  });
  const c = connect(server, { symbols: 4, batchSize: 2 });
  try {
    const before = nowUs();
    c.conn.start();
    await waitFor(() => c.subscribed.length === 1, "subscription");
    await waitFor(() => c.frames.length === 6, "frames");
    const connId = c.opens[0]![0];
    assert.ok(c.frames.every((f) => f.connId === connId && f.text.startsWith('{"stream":')));
    assert.equal(c.frames.filter((f) => f.text.includes('"result"')).length, 0, "replies are not data");
    const times = c.frames.map((f) => f.localUs);
    assert.ok(times[0]! >= before && times.every((t, i) => i === 0 || t >= times[i - 1]!));
    assert.equal(c.failures.length, 0);
  } finally {
    await c.conn.close();
    await server.shutdown();
  }
});

Deno.test("StreamConnection retries a batch after an error reply, with or without an id, flat or nested", async () => {
  let errors = 0;
  const server = startServer({
    onSubscribe(ws, msg) {
      if (errors === 0) {
        errors++;
        ws.send(JSON.stringify({ code: 2, msg: "Invalid request: bad", id: msg.id }));
      } else if (errors === 1) {
        errors++;
        ws.send(JSON.stringify({ code: 3, msg: "Invalid JSON" })); // no id: the oldest request in flight
      } else if (errors === 2) {
        errors++;
        // Spot's shape, as stream.binance.com sends it.
        ws.send(JSON.stringify({ error: { code: 2, msg: "Invalid request: unknown stream" }, id: msg.id }));
      } else {
        ack(ws, msg);
      }
    },
  });
  const c = connect(server, { symbols: 4, batchSize: 2, resubscribeDelayMs: 30 });
  try {
    c.conn.start();
    await waitFor(() => c.subscribed.length === 1, "subscription");
    assert.deepEqual(c.failures.map(([, f]) => [f.code, f.params.length, f.retryInMs]), [[2, 2, 30], [
      3,
      2,
      30,
    ], [
      2,
      2,
      30,
    ]]);
    const subs = server.received;
    assert.equal(subs.length, 5);
    assert.deepEqual(new Set(subs.flatMap((m) => m.params)).size, 4);
    assert.equal(c.closes.length, 0, "an error reply is never fatal");
  } finally {
    await c.conn.close();
    await server.shutdown();
  }
});

Deno.test("StreamConnection treats a missing reply as a failure and sends the batch again", async () => {
  let first = true;
  const server = startServer({
    onSubscribe(ws, msg) {
      if (first) first = false;
      else ack(ws, msg);
    },
  });
  const c = connect(server, { replyTimeoutMs: 40, resubscribeDelayMs: 10 });
  try {
    c.conn.start();
    await waitFor(() => c.subscribed.length === 1, "subscription");
    assert.equal(c.failures.length, 1);
    assert.equal(c.failures[0]![1].code, null);
    assert.equal(server.received.length, 2);
    assert.deepEqual(server.received[0]!.params, server.received[1]!.params);
  } finally {
    await c.conn.close();
    await server.shutdown();
  }
});

Deno.test("StreamConnection reconnects with a new connection id after the server drops it", async () => {
  const server = startServer({
    onSubscribe(ws, msg) {
      ack(ws, msg);
      ws.send(data("s0usdt@aggTrade", msg.socket));
      if (msg.socket === 0) setTimeout(() => ws.close(1011, "internal"), 10);
    },
  });
  const c = connect(server);
  try {
    c.conn.start();
    await waitFor(() => c.subscribed.length === 2, "second subscription");
    const [first, second] = c.opens.map(([id]) => id);
    assert.notEqual(first, second);
    assert.equal(c.closes.length, 1);
    const [closedId, info] = c.closes[0]!;
    assert.equal(closedId, first);
    assert.equal(info.code, 1011);
    assert.deepEqual(info.cause, { kind: "closed", code: 1011, reason: "internal" });
    assert.equal(info.retry, "transient");
    assert.equal(info.opened, true);
    assert.ok(info.downSinceUs <= c.opens[1]![1].openedUs);
    assert.deepEqual(c.subscribed, [first, second]);
    assert.deepEqual([...new Set(c.frames.map((f) => f.connId))], [first, second]);
    assert.deepEqual(server.paths, ["/stream", "/stream"]);
  } finally {
    await c.conn.close();
    await server.shutdown();
  }
});

Deno.test("StreamConnection reconnects at once on serverShutdown in both forms and keeps it out of the data", async () => {
  const server = startServer({
    onSubscribe(ws, msg) {
      ack(ws, msg);
      if (msg.socket === 0) {
        ws.send(JSON.stringify({ stream: "!serverShutdown", data: { e: "serverShutdown", E: 1 } }));
      } else if (msg.socket === 1) ws.send(JSON.stringify({ e: "serverShutdown", E: 2 }));
    },
  });
  // A policy this slow would show if the shutdown reconnects went through it.
  const c = connect(server, { reconnect: new ReconnectPolicy({ quickMs: 10_000, random: () => 1 }) });
  try {
    c.conn.start();
    await waitFor(() => c.subscribed.length === 3, "third subscription");
    assert.deepEqual(c.closes.map(([, i]) => [i.cause.kind, i.retry, i.reconnectInMs]), [
      ["serverShutdown", "immediate", 0],
      ["serverShutdown", "immediate", 0],
    ]);
    assert.equal(c.frames.length, 0);
    assert.equal(c.bad.length, 0);
  } finally {
    await c.conn.close();
    await server.shutdown();
  }
});

Deno.test("StreamConnection calls onLifetimeNear at lifetime minus lead", async () => {
  const server = startServer();
  const c = connect(server, { lifetimeMs: 300, rotateLeadMs: 220 });
  try {
    c.conn.start();
    await waitFor(() => c.opens.length === 1, "open");
    const opened = performance.now();
    await waitFor(() => c.lifetime.length === 1, "lifetime callback");
    const elapsed = performance.now() - opened;
    assert.ok(elapsed >= 60 && elapsed < 250, `fired after ${elapsed} ms`);
    assert.deepEqual(c.lifetime, [c.opens[0]![0]]);
    assert.equal(c.closes.length, 0, "the callback alone closes nothing");
  } finally {
    await c.conn.close();
    await server.shutdown();
  }
});

Deno.test("StreamConnection.close() stops for good and reconnect(reason) forces a new socket", async () => {
  const server = startServer();
  const c = connect(server);
  try {
    c.conn.start();
    await waitFor(() => c.subscribed.length === 1, "subscription");
    c.conn.reconnect("stale streams");
    await waitFor(() => c.subscribed.length === 2, "second subscription");
    assert.deepEqual(c.closes[0]![1].cause, { kind: "forced", reason: "stale streams" });
    await c.conn.close();
    assert.equal(c.conn.state, "stopped");
    assert.equal(c.closes.length, 2);
    const info = c.closes[1]![1];
    assert.deepEqual([info.cause.kind, info.retry, info.reconnectInMs], ["stopped", null, null]);
    await new Promise((r) => setTimeout(r, 100)); // several backoff delays
    assert.equal(server.sockets.length, 2);
    assert.equal(c.conn.connId, null);
  } finally {
    await c.conn.close();
    await server.shutdown();
  }
});

Deno.test("StreamConnection reports binary frames and unknown text without dropping the socket", async () => {
  const server = startServer({
    onSubscribe(ws, msg) {
      ack(ws, msg);
      ws.send(new Uint8Array([1, 2, 3]));
      ws.send('{"hello":1}');
      ws.send(data("s0usdt@aggTrade", 1));
    },
  });
  const c = connect(server);
  try {
    c.conn.start();
    await waitFor(() => c.frames.length === 1, "data frame");
    assert.equal(c.bad.length, 2);
    const [bin, text] = c.bad.map(([, f]) => f);
    assert.deepEqual([...new Uint8Array(bin as ArrayBuffer)], [1, 2, 3]);
    assert.equal(text, '{"hello":1}');
    assert.equal(c.closes.length, 0);
  } finally {
    await c.conn.close();
    await server.shutdown();
  }
});

Deno.test("StreamConnection backs off a refused upgrade: 403 waits for its floor, 503 comes back quickly", async () => {
  const server = startServer({ refuse: (i) => [403, 503][i] });
  const c = connect(server);
  try {
    c.conn.start();
    await waitFor(() => c.subscribed.length === 1, "subscription after refusals");
    const [refused, unavailable] = c.closes.map(([, i]) => i);
    assert.equal(refused!.opened, false);
    assert.deepEqual(refused!.cause, {
      kind: "error",
      message: (refused!.cause as { message: string }).message,
      status: 403,
    });
    assert.deepEqual([refused!.retry, refused!.reconnectInMs], ["refused", 80]);
    assert.deepEqual([unavailable!.retry, unavailable!.reconnectInMs], ["transient", 40]);
    // Down since start: failed attempts do not move the start of the outage.
    assert.equal(refused!.downSinceUs, unavailable!.downSinceUs);
    assert.equal(c.opens[0]![1].attempt, 3);
    assert.equal(new Set([...c.closes.map(([id]) => id), c.opens[0]![0]]).size, 3, "an id per attempt");
  } finally {
    await c.conn.close();
    await server.shutdown();
  }
});

Deno.test("StreamConnection: two connections for one plan run side by side (rotation)", async () => {
  const server = startServer({
    onSubscribe(ws, msg) {
      ack(ws, msg);
      ws.send(data("s0usdt@aggTrade", msg.socket));
    },
  });
  let id = 0;
  const frames: number[] = [];
  const plan = planStreams({
    market: "usdm",
    wsUrl: server.baseUrl,
    symbols: ["BTCUSDT"],
    streams: ["aggTrade"],
  })
    .connections[0]!;
  const make = () =>
    new StreamConnection({
      plan,
      nextConnId: () => ++id,
      handlers: { onFrame: (_t, _u, c) => frames.push(c) },
    });
  const [a, b] = [make(), make()];
  try {
    a.start();
    b.start();
    await waitFor(() => frames.length === 2, "a frame on each");
    assert.deepEqual(frames.sort(), [1, 2]);
    assert.deepEqual(server.paths, ["/market/stream", "/market/stream"]);
    await a.close();
    assert.equal(b.state, "subscribed");
  } finally {
    await a.close();
    await b.close();
    await server.shutdown();
  }
});

Deno.test("StreamConnection abandons an upgrade that never completes and stops cleanly while connecting", async () => {
  // A TCP server that accepts and never answers the upgrade request.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const plan = planStreams({
    market: "spot",
    wsUrl: `ws://127.0.0.1:${listener.addr.port}`,
    symbols: ["BTCUSDT"],
    streams: ["aggTrade"],
  }).connections[0]!;
  const closes: CloseInfo[] = [];
  let id = 0;
  const conn = new StreamConnection({
    plan,
    nextConnId: () => ++id,
    connectTimeoutMs: 40,
    reconnect: new ReconnectPolicy({ quickMs: 10, random: () => 1 }),
    handlers: { onFrame: () => {}, onClose: (_c, info) => closes.push(info) },
  });
  try {
    conn.start();
    await waitFor(() => closes.length === 2, "two timed-out attempts");
    assert.deepEqual(closes.map((i) => [i.cause.kind, i.opened, i.retry]), [
      ["connectTimeout", false, "transient"],
      ["connectTimeout", false, "transient"],
    ]);
    await waitFor(() => conn.state === "connecting", "third attempt");
    await conn.close();
    assert.equal(closes.at(-1)!.cause.kind, "stopped");
    assert.equal(conn.state, "stopped");
  } finally {
    await conn.close();
    listener.close();
    for (const c of held) c.close();
    await accepting;
  }
});

Deno.test("StreamConnection: when one connection of a market gets through, the others waiting on the same budget come back at once", async () => {
  const server = startServer({ refuse: (i) => (i < 2 ? 503 : undefined) });
  const budget = new ConnectBudget();
  const quick = connect(server, { budget, reconnect: new ReconnectPolicy({ quickMs: 50, random: () => 1 }) });
  const slow = connect(server, {
    budget,
    symbols: 3,
    reconnect: new ReconnectPolicy({ quickMs: 60_000, random: () => 1 }),
  });
  try {
    quick.conn.start();
    slow.conn.start();
    await waitFor(() => quick.subscribed.length === 1, "the quick connection subscribed");
    // Its own schedule says 60 s; the wake-up brings it back within a few hundred ms.
    await waitFor(() => slow.subscribed.length === 1, "the slow connection subscribed", 5000);
    assert.deepEqual(slow.closes.map(([, i]) => [i.retry, i.reconnectInMs]), [["transient", 60_000]]);
  } finally {
    await quick.conn.close();
    await slow.conn.close();
    await server.shutdown();
  }
});
