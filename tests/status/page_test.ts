import assert from "node:assert/strict";
import { ASSETS } from "../../lib/status/assets.ts";
import { CHART_POLL_MS, POLL_MS, renderPage } from "../../lib/status/page.ts";

const html = renderPage();
const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1] ?? "";

Deno.test("renderPage() is a complete, phone-ready HTML document", () => {
  assert.match(html, /^<!doctype html>\n<html lang="en">/);
  assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  assert.match(html, /<meta charset="utf-8">/);
  assert.ok(html.trimEnd().endsWith("</html>"));
  // Small enough to load quickly over a poor mobile connection (the chart library comes cached, once).
  assert.ok(html.length < 40_000, `page is ${html.length} bytes`);
});

Deno.test("renderPage() loads nothing from elsewhere: scripts only from its own /assets/", () => {
  for (const external of [/https?:\/\//, /\shref=/, /@import/, /url\(/, /<link/, /<iframe/]) {
    assert.doesNotMatch(html, external);
  }
  const sources = [...html.matchAll(/\ssrc="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(sources, ASSETS.map((a) => a.path));
  for (const src of sources) assert.match(src!, /^\/assets\/[\w.-]+\.js$/);
});

Deno.test("renderPage() script parses and polls /status.json every POLL_MS and the charts every CHART_POLL_MS", () => {
  assert.ok(script.length > 0);
  // Compiles the script without running it: a syntax error throws here.
  new Function(script);
  assert.match(script, /getJson\("\/status\.json"\)/);
  assert.match(script, /fetch\(url, \{ cache: "no-store" \}\)/);
  assert.match(script, new RegExp(`const POLL_MS = ${POLL_MS}, CHART_POLL_MS = ${CHART_POLL_MS},`));
  assert.match(script, /setTimeout\(poll, POLL_MS\)/);
  assert.match(script, /setTimeout\(pollCharts, CHART_POLL_MS\)/);
  for (const route of ["/charts/rates.json", "/charts/coverage.json?", "/charts/gaps.json?date="]) {
    assert.ok(script.includes(`"${route}`), route);
  }
});

Deno.test("renderPage() has an element for every id its script looks up", () => {
  const used = new Set([...script.matchAll(/\$\("([\w-]+)"\)/g)].map((m) => m[1]!));
  assert.ok(used.size >= 20, [...used].join(","));
  for (const id of used) assert.match(html, new RegExp(`id="${id}"`), `missing element #${id}`);
});

Deno.test("renderPage() writes values as text, never as HTML", () => {
  assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
});
