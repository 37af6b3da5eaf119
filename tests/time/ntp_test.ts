import assert from "node:assert/strict";
import { NtpTimeoutError, NtpUnreachableError, parseNtpServer, queryNtp } from "../../lib/time/ntp.ts";
import { NtpResponseError } from "../../lib/time/ntp_packet.ts";
import { startNtpServer, startSilentServer } from "./_ntp_server.ts";

Deno.test("queryNtp() measures a server running 250 ms ahead", async () => {
  const server = await startNtpServer({ skewMs: 250 });
  try {
    const m = await queryNtp({ server: `127.0.0.1:${server.port}`, timeoutMs: 2000 });
    assert.equal(server.requests, 1);
    assert.ok(Math.abs(m.offsetMs - 250) < 5, `offset ${m.offsetMs}`);
    assert.ok(m.delayMs >= 0 && m.delayMs < 50, `delay ${m.delayMs}`);
    assert.equal(m.stratum, 2);
    assert.equal(m.server, `127.0.0.1:${server.port}`);
  } finally {
    await server.close();
  }
});

Deno.test("queryNtp() measures a server behind, and leaves its processing time out of the delay", async () => {
  const server = await startNtpServer({ skewMs: -1234.5, processingMs: 60 });
  try {
    const before = performance.timeOrigin + performance.now();
    const m = await queryNtp({ server: `localhost:${server.port}` });
    const elapsed = performance.timeOrigin + performance.now() - before;
    assert.ok(elapsed >= 55, `the server held the request (${elapsed} ms)`);
    assert.ok(Math.abs(m.offsetMs + 1234.5) < 5, `offset ${m.offsetMs}`);
    assert.ok(m.delayMs < 30, `delay ${m.delayMs} excludes the 60 ms of processing`);
  } finally {
    await server.close();
  }
});

Deno.test("queryNtp() measures against the injected clock", async () => {
  const server = await startNtpServer({ skewMs: 0 });
  try {
    // A local clock 3 s slow: the server (on the real clock) reads 3000 ms ahead of it.
    const slow = () => performance.timeOrigin + performance.now() - 3000;
    const m = await queryNtp({ server: `127.0.0.1:${server.port}`, clockMs: slow });
    assert.ok(Math.abs(m.offsetMs - 3000) < 5, `offset ${m.offsetMs}`);
  } finally {
    await server.close();
  }
});

Deno.test("queryNtp() times out against a silent server", async () => {
  const silent = await startSilentServer();
  try {
    const t0 = performance.now();
    await assert.rejects(queryNtp({ server: `127.0.0.1:${silent.port}`, timeoutMs: 200 }), (e: unknown) => {
      assert.ok(e instanceof NtpTimeoutError);
      assert.equal(e.timeoutMs, 200);
      return true;
    });
    const waited = performance.now() - t0;
    assert.ok(waited >= 190 && waited < 1000, `waited ${waited} ms`);
  } finally {
    await silent.close();
  }
});

Deno.test("queryNtp() rejects a kiss-o'-death and a reply to someone else's request", async () => {
  for (const [options, message] of [[{ stratum: 0 }, /RATE/], [{ echoOrigin: false }, /origin/]] as const) {
    const server = await startNtpServer(options);
    try {
      await assert.rejects(
        queryNtp({ server: `127.0.0.1:${server.port}`, timeoutMs: 1000 }),
        (e: unknown) => {
          assert.ok(e instanceof NtpResponseError);
          assert.match(e.message, message);
          return true;
        },
      );
    } finally {
      await server.close();
    }
  }
});

Deno.test("parseNtpServer() splits host and port", () => {
  assert.deepEqual(parseNtpServer("pool.ntp.org"), { host: "pool.ntp.org", port: 123 });
  assert.deepEqual(parseNtpServer("pool.ntp.org:123"), { host: "pool.ntp.org", port: 123 });
  assert.deepEqual(parseNtpServer("127.0.0.1:1123"), { host: "127.0.0.1", port: 1123 });
  assert.deepEqual(parseNtpServer("[::1]:1123"), { host: "::1", port: 1123 });
  assert.deepEqual(parseNtpServer("2001:db8::1"), { host: "2001:db8::1", port: 123 });
  for (const bad of ["", "host:0", "host:70000", "host:x", "a b"]) {
    assert.throws(() => parseNtpServer(bad), RangeError, bad);
  }
});

Deno.test("queryNtp() rejects, and never throws out of a socket callback, when the server name does not resolve", async () => {
  await assert.rejects(queryNtp({ server: "ntp.name-that-does-not-exist.invalid:123", timeoutMs: 2000 }));
});

Deno.test("queryNtp() says so when the server's name does not resolve", async () => {
  // `.invalid` never resolves (RFC 6761); the timeout is only a bound, the lookup fails at once.
  const server = "no-such-host.invalid:123";
  await assert.rejects(queryNtp({ server, timeoutMs: 20_000 }), (e: unknown) => {
    assert.ok(e instanceof NtpUnreachableError, String(e));
    assert.equal(e.server, server);
    assert.match(
      e.message,
      /^NTP server no-such-host\.invalid:123 cannot be reached: .*no-such-host\.invalid/,
    );
    return true;
  });
});
