/**
 * The status page in a real browser: headless Chromium loads it from the server (fake source, three symbols),
 * and we check what a person would see. Skipped, with the reason in the test name, when Chromium is missing
 * (`apt-get install -y chromium`).
 */
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POLL_MS } from "../../lib/status/page.ts";
import { startStatusServer } from "../../lib/status/server.ts";
import type { StatusSnapshot } from "../../lib/status/snapshot.ts";
import { ChromiumPage, findChromium, runChromium } from "./chromium.ts";
import { FAKE_SYMBOLS, fakeSnapshot, FakeStatusSource } from "./fake_source.ts";

const CHROMIUM = await findChromium();
const SKIPPED = CHROMIUM === null ? " (skipped: chromium is not installed; apt-get install -y chromium)" : "";
/** Where the phone-sized screenshot is left for a person to look at. */
const SCREENSHOT = join(tmpdir(), "status.png");

/** One stream is stale so the page has a problem to show. */
function withStaleMarkPrice(s: StatusSnapshot): void {
  s.streams.find((x) => x.market === "usdm" && x.stream === "markPrice@1s")!.stale = true;
}

interface View {
  symbols: string[];
  meta: string;
  health: string;
  problems: string[];
  solDepthRate: string | null;
  staleRowClass: string | null;
}

const READ_VIEW = `(() => {
  const cell = (key, i) => document.querySelector('tr[data-key="' + key + '"]')?.children[i]?.textContent ?? null;
  return {
    symbols: [...document.querySelectorAll("section[data-key] h2 span:first-child")].map((e) => e.textContent),
    meta: document.getElementById("meta").textContent,
    health: document.getElementById("health").textContent,
    problems: [...document.querySelectorAll("#problems li")].map((e) => e.textContent),
    solDepthRate: cell("spot/SOLUSDT/depth@100ms", 1),
    staleRowClass: document.querySelector('tr[data-key="usdm/BTCUSDT/markPrice@1s"]')?.className ?? null,
  };
})()`;

/** The fake's tick behind a rendered view, from its "updated HH:MM:SS UTC" (tick 0 is 10:00:00). */
function tickOf(view: View): number {
  const m = /updated (\d\d):(\d\d):(\d\d) UTC/.exec(view.meta);
  assert.ok(m, view.meta);
  return ((Number(m[1]) - 10) * 3600 + Number(m[2]) * 60 + Number(m[3])) / 2;
}

/** The msg/s the page should show for spot SOLUSDT depth at `tick` (one decimal below 10/s). */
function expectedSolDepthRate(tick: number): string {
  const s = fakeSnapshot(tick).streams.find((x) => x.symbol === "SOLUSDT" && x.stream === "depth@100ms")!;
  return s.msgsPerSec.toFixed(1);
}

Deno.test({
  name: `status page in headless Chromium shows every symbol and updates in place${SKIPPED}`,
  ignore: CHROMIUM === null,
  async fn() {
    const source = new FakeStatusSource();
    source.edit = withStaleMarkPrice;
    const server = startStatusServer({ hostname: "127.0.0.1", port: 0, source });
    const page = await ChromiumPage.launch(CHROMIUM!, 412, 900);
    try {
      await page.goto(`${server.url}/`);
      const first = await page.waitFor<View>(READ_VIEW, (v) => v.solDepthRate !== null, 15_000);
      assert.deepEqual([...new Set(first.symbols)].sort(), [...FAKE_SYMBOLS].sort());
      assert.equal(first.symbols.length, 4, "three spot cards and one USD-M card");
      assert.equal(first.solDepthRate, expectedSolDepthRate(tickOf(first)));
      assert.equal(first.health, "1 problem");
      assert.deepEqual(first.problems, ["usdm BTCUSDT markPrice@1s: stale"]);
      assert.equal(first.staleRowClass, "bad");

      // Tag the row element: after the next poll it must be the same node with new text (updated in place).
      await page.evaluate(`window.__row = document.querySelector('tr[data-key="spot/SOLUSDT/depth@100ms"]')`);
      const later = await page.waitFor<View>(
        READ_VIEW,
        (v) => tickOf(v) > tickOf(first) && v.solDepthRate !== first.solDepthRate,
        4 * POLL_MS,
      );
      assert.equal(later.solDepthRate, expectedSolDepthRate(tickOf(later)));
      assert.equal(
        await page.evaluate<boolean>(
          `window.__row === document.querySelector('tr[data-key="spot/SOLUSDT/depth@100ms"]')`,
        ),
        true,
      );
    } finally {
      await page.close();
      await server.close();
    }
  },
});

Deno.test({
  name: `status page screenshot at phone size is written to ${SCREENSHOT}${SKIPPED}`,
  ignore: CHROMIUM === null,
  async fn() {
    const source = new FakeStatusSource();
    source.edit = withStaleMarkPrice;
    const server = startStatusServer({ hostname: "127.0.0.1", port: 0, source });
    try {
      await Deno.remove(SCREENSHOT).catch(() => {});
      const out = await runChromium(CHROMIUM!, [
        `--screenshot=${SCREENSHOT}`,
        "--window-size=412,900",
        // Virtual time lets the page's first poll land before the capture, without a real wait.
        "--virtual-time-budget=3000",
        `${server.url}/`,
      ], 30_000);
      assert.ok(out.success, new TextDecoder().decode(out.stderr).slice(-2000));
      assert.ok(source.tick >= 1, "the page fetched /status.json before the capture");
      const png = await Deno.readFile(SCREENSHOT);
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const ihdr = new DataView(png.buffer, png.byteOffset + 16, 8);
      assert.deepEqual([ihdr.getUint32(0), ihdr.getUint32(4)], [412, 900]);
    } finally {
      await server.close();
    }
  },
});
