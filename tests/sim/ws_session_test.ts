import assert from "node:assert/strict";
import { MAX_STREAMS, WsSession } from "../../lib/sim/ws_session.ts";

const T = 1_000_000;

Deno.test("WsSession subscribes, lists and unsubscribes with result:null replies", () => {
  const s = new WsSession("usdm", true, ["btcusdt@depth@100ms"]);
  const sub = s.receive(
    '{"method":"SUBSCRIBE","params":["BTCUSDT@aggTrade","btcusdt@depth@100ms"],"id":1}',
    T,
  );
  assert.deepEqual(sub, {
    reply: '{"result":null,"id":1}',
    added: ["btcusdt@aggTrade"],
    removed: [],
    close: null,
  });
  assert.equal(
    s.receive('{"method":"LIST_SUBSCRIPTIONS","id":2}', T).reply,
    '{"result":["btcusdt@depth@100ms","btcusdt@aggTrade"],"id":2}',
  );
  const unsub = s.receive('{"method":"UNSUBSCRIBE","params":["btcusdt@depth@100ms","nope@x"],"id":3}', T);
  assert.deepEqual(unsub.removed, ["btcusdt@depth@100ms"]);
});

Deno.test("WsSession properties: combined get/set and errors", () => {
  const s = new WsSession("spot", false, []);
  assert.equal(
    s.receive('{"method":"GET_PROPERTY","params":["combined"],"id":"a1"}', T).reply,
    '{"result":false,"id":"a1"}',
  );
  assert.equal(
    s.receive('{"method":"SET_PROPERTY","params":["combined",true],"id":null}', T).reply,
    '{"result":null,"id":null}',
  );
  assert.equal(s.combined, true);
  assert.deepEqual(
    JSON.parse(s.receive('{"method":"SET_PROPERTY","params":["combined","yes"],"id":5}', T).reply!),
    {
      error: { code: 1, msg: "Invalid value type: expected Boolean" },
      id: 5,
    },
  );
  assert.equal(
    JSON.parse(s.receive('{"method":"GET_PROPERTY","params":["other"],"id":6}', T + 2000).reply!).error.code,
    0,
  );
});

Deno.test("WsSession rejects bad JSON, ids, methods and stream names", () => {
  const spot = new WsSession("spot", false, []);
  const usdm = new WsSession("usdm", false, []);
  const err = (s: WsSession, text: string, t: number) => JSON.parse(s.receive(text, t).reply!);
  assert.equal(err(spot, "{oops", T).error.code, 3);
  assert.equal(err(spot, '{"method":"SUBSCRIBE","params":[],"id":"has space"}', T).error.code, 2);
  assert.match(err(spot, '{"method":"SUBSCRIBBE","params":[],"id":1}', T).error.msg, /unknown variant/);
  assert.match(err(usdm, '{"params":[],"id":1}', T).msg, /missing field `method`/);
  assert.equal(err(usdm, '{"method":"SUBSCRIBE","params":["x"],"id":-1}', T).code, 2);
  assert.deepEqual(err(usdm, '{"method":"SUBSCRIBE","params":["nostream"],"id":2}', T), {
    code: 2,
    msg: "Invalid request: invalid stream",
    id: 2,
  });
});

Deno.test("WsSession caps streams per connection", () => {
  const s = new WsSession("usdm", false, []);
  const names = Array.from({ length: MAX_STREAMS }, (_, i) => `s${i}@aggTrade`);
  assert.equal(
    s.receive(JSON.stringify({ method: "SUBSCRIBE", params: names, id: 1 }), T).added.length,
    MAX_STREAMS,
  );
  const over = s.receive('{"method":"SUBSCRIBE","params":["extra@aggTrade"],"id":2}', T);
  assert.deepEqual(over.added, []);
  assert.match(JSON.parse(over.reply!).msg, /too many streams/);
});

Deno.test("WsSession closes after more than 5 (spot) or 10 (USD-M) messages in a second", () => {
  const spot = new WsSession("spot", false, []);
  for (let i = 0; i < 5; i++) {
    assert.equal(spot.receive('{"method":"LIST_SUBSCRIPTIONS","id":1}', T + i * 10).close, null);
  }
  assert.equal(spot.receive('{"method":"LIST_SUBSCRIPTIONS","id":1}', T + 60).close?.code, 1008);
  const paced = new WsSession("spot", false, []);
  for (let i = 0; i < 20; i++) assert.equal(paced.receive("{}", T + i * 250).close, null);
  const usdm = new WsSession("usdm", false, []);
  for (let i = 0; i < 10; i++) assert.equal(usdm.receive("{}", T).close, null);
  assert.notEqual(usdm.receive("{}", T + 999).close, null);
});
