import assert from "node:assert/strict";
import {
  decodeNtpReply,
  encodeNtpRequest,
  ntpOffset,
  NtpResponseError,
  readNtpTimestamp,
  writeNtpTimestamp,
} from "../../lib/time/ntp_packet.ts";

Deno.test("ntpOffset() computes RFC 5905 offset and delay", () => {
  const cases: { t: [number, number, number, number]; offset: number; delay: number }[] = [
    // Synchronized clocks, 20 ms each way, 1 ms processing.
    { t: [1000, 1020, 1021, 1041], offset: 0, delay: 40 },
    // Server 250 ms ahead, symmetric 10 ms legs.
    { t: [1000, 1260, 1261, 1021], offset: 250, delay: 20 },
    // Server 75.5 ms behind.
    { t: [5000, 4934.5, 4934.5, 5020], offset: -75.5, delay: 20 },
    // Asymmetric path (30 ms out, 10 ms back): the offset is off by half the asymmetry, as RFC 5905 says.
    { t: [0, 30, 30, 40], offset: 10, delay: 40 },
  ];
  for (const { t: [t1, t2, t3, t4], offset, delay } of cases) {
    const got = ntpOffset({ t1, t2, t3, t4 });
    assert.equal(got.offsetMs, offset, `offset of ${[t1, t2, t3, t4]}`);
    assert.equal(got.delayMs, delay, `delay of ${[t1, t2, t3, t4]}`);
  }
});

Deno.test("readNtpTimestamp() decodes known NTP timestamps, including era 1", () => {
  const cases: { hex: string; ms: number }[] = [
    { hex: "83aa7e80" + "00000000", ms: 0 }, // 1970-01-01, the Unix epoch
    { hex: "83aa7e81" + "80000000", ms: 1500 },
    { hex: "e9d380d0" + "40000000", ms: Date.UTC(2024, 3, 24, 13, 0, 0) + 250 },
    { hex: "00000000" + "00000000", ms: Date.UTC(2036, 1, 7, 6, 28, 16) }, // era 1 begins
  ];
  for (const { hex, ms } of cases) {
    const bytes = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
    assert.equal(readNtpTimestamp(new DataView(bytes.buffer), 0), ms, hex);
  }
});

Deno.test("writeNtpTimestamp() round-trips to well under a microsecond, across the 2036 rollover", () => {
  const view = new DataView(new ArrayBuffer(8));
  for (const ms of [0, 1_700_000_000_123.456, Date.UTC(2036, 1, 7, 6, 28, 15, 999.5), Date.UTC(2040, 0, 1)]) {
    writeNtpTimestamp(view, 0, ms);
    assert.ok(Math.abs(readNtpTimestamp(view, 0) - ms) < 1e-3, `${ms}`);
  }
});

function reply(request: Uint8Array, patch: (bytes: Uint8Array) => void = () => {}): Uint8Array {
  const bytes = new Uint8Array(48);
  bytes[0] = 0x24; // LI 0, VN 4, mode 4
  bytes[1] = 1;
  bytes.set(request.subarray(40, 48), 24);
  const view = new DataView(bytes.buffer);
  writeNtpTimestamp(view, 32, 1_700_000_000_250);
  writeNtpTimestamp(view, 40, 1_700_000_000_251);
  patch(bytes);
  return bytes;
}

Deno.test("encodeNtpRequest() builds a version 4 client packet with the transmit time", () => {
  const req = encodeNtpRequest(1_700_000_000_000);
  assert.equal(req.length, 48);
  assert.equal(req[0], 0x23);
  assert.equal(readNtpTimestamp(new DataView(req.buffer), 40), 1_700_000_000_000);
  assert.deepEqual([...req.subarray(1, 40)], new Array(39).fill(0));
});

Deno.test("decodeNtpReply() reads a valid reply and rejects unusable ones", () => {
  const req = encodeNtpRequest(1_700_000_000_000);
  const ok = decodeNtpReply(reply(req), req);
  assert.equal(ok.stratum, 1);
  assert.ok(Math.abs(ok.receiveMs - 1_700_000_000_250) < 1e-3);
  assert.ok(Math.abs(ok.transmitMs - 1_700_000_000_251) < 1e-3);

  const bad: [string, Uint8Array, RegExp][] = [
    ["short", reply(req).subarray(0, 40), /40 bytes/],
    ["client mode", reply(req, (b) => (b[0] = 0x23)), /mode 3/],
    [
      "kiss-o'-death",
      reply(req, (b) => {
        b[1] = 0;
        b.set(new TextEncoder().encode("RATE"), 12);
      }),
      /kiss-o'-death "RATE"/,
    ],
    ["unsynchronized", reply(req, (b) => (b[0] = 0xe4)), /unsynchronized/],
    ["foreign origin", reply(req, (b) => (b[31] = b[31]! ^ 1)), /origin timestamp/],
    ["zero transmit", reply(req, (b) => b.fill(0, 40, 48)), /transmit timestamp is zero/],
  ];
  for (const [what, bytes, message] of bad) {
    assert.throws(() => decodeNtpReply(bytes, req), (e: unknown) => {
      assert.ok(e instanceof NtpResponseError, what);
      assert.match(e.message, message, what);
      return true;
    });
  }
});
