import assert from "node:assert/strict";
import { ControlPacer, defaultPacing } from "../../lib/binance/control_pacer.ts";
import { PROFILES } from "../../lib/binance/markets.ts";

Deno.test("defaultPacing() stays one message under the limit, over a padded second", () => {
  for (const market of ["spot", "usdm"] as const) {
    const p = defaultPacing(market);
    assert.equal(p.maxPerWindow, PROFILES[market].controlMessagesPerSecond - 1);
    assert.ok(p.windowMs > 1000);
  }
});

Deno.test("ControlPacer never lets more than maxPerWindow sends into any window", () => {
  const pacer = new ControlPacer({ maxPerWindow: 4, windowMs: 1000 });
  const sent: number[] = [];
  let now = 0;
  // Send 20 messages as early as the pacer allows, with uneven caller wake-ups.
  while (sent.length < 20) {
    const wait = pacer.waitMs(now);
    if (wait === 0) {
      pacer.record(now);
      sent.push(now);
      now += sent.length % 3; // 0–2 ms between back-to-back sends
    } else {
      now += wait + (sent.length % 2) * 7;
    }
  }
  for (const t of sent) {
    assert.ok(sent.filter((s) => s >= t && s < t + 1000).length <= 4, `window at ${t}`);
  }
  // And it does not stall: 20 sends at 4 per second finish within ~4 windows.
  assert.ok(sent.at(-1)! < 4100, `last send at ${sent.at(-1)}`);
});

Deno.test("ControlPacer.waitMs() counts from the oldest send in the window", () => {
  const pacer = new ControlPacer({ maxPerWindow: 2, windowMs: 1000 });
  assert.equal(pacer.waitMs(0), 0);
  pacer.record(0);
  assert.equal(pacer.waitMs(5), 0);
  pacer.record(300);
  assert.equal(pacer.waitMs(400), 600);
  assert.equal(pacer.waitMs(1000), 0);
  pacer.record(1000);
  assert.equal(pacer.waitMs(1000), 300, "now the send at 300 is the oldest");
  assert.throws(() => new ControlPacer({ maxPerWindow: 0, windowMs: 1000 }), RangeError);
  assert.throws(() => new ControlPacer({ maxPerWindow: 1, windowMs: 0 }), RangeError);
});
