import assert from "node:assert/strict";
import { measureServerTime, serverOffset } from "../../lib/time/server_offset.ts";

Deno.test("serverOffset() takes the server time against the round trip's midpoint", () => {
  const cases: [sent: number, server: number, received: number, offset: number, rtt: number][] = [
    [1000, 1120, 1040, 100, 40],
    [1000, 1020, 1040, 0, 40],
    [1000, 900.5, 1001, -100, 1],
    [5000, 5000, 5000, 0, 0],
  ];
  for (const [sent, server, received, offset, rtt] of cases) {
    assert.deepEqual(serverOffset(sent, server, received), {
      offsetMs: offset,
      rttMs: rtt,
      timeMs: received,
    });
  }
  assert.throws(() => serverOffset(1000, 1000, 999), RangeError);
});

Deno.test("measureServerTime() reads the clock around the call", async () => {
  const reads = [10_000, 10_030];
  const clock = () => reads.shift()!;
  const source = { serverTime: () => Promise.resolve({ value: 10_515 }) };
  assert.deepEqual(await measureServerTime(source, clock), { offsetMs: 500, rttMs: 30, timeMs: 10_030 });
  assert.equal(reads.length, 0);
});
