import assert from "node:assert/strict";
import { POLL_MS, renderPage } from "../../lib/status/page.ts";

const html = renderPage();
const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1] ?? "";

Deno.test("renderPage() is a complete, phone-ready HTML document", () => {
  assert.match(html, /^<!doctype html>\n<html lang="en">/);
  assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  assert.match(html, /<meta charset="utf-8">/);
  assert.ok(html.trimEnd().endsWith("</html>"));
  // Small enough to load quickly over a poor mobile connection.
  assert.ok(html.length < 16_000, `page is ${html.length} bytes`);
});

Deno.test("renderPage() loads nothing from elsewhere", () => {
  for (const external of [/https?:\/\//, /\ssrc=/, /\shref=/, /@import/, /url\(/, /<link/, /<iframe/]) {
    assert.doesNotMatch(html, external);
  }
});

Deno.test("renderPage() script parses and polls /status.json every POLL_MS", () => {
  assert.ok(script.length > 0);
  // Compiles the script without running it: a syntax error throws here.
  new Function(script);
  assert.match(script, /fetch\("\/status\.json", \{ cache: "no-store" \}\)/);
  assert.match(script, new RegExp(`const POLL_MS = ${POLL_MS};`));
  assert.match(script, /setTimeout\(poll, POLL_MS\)/);
  assert.equal(POLL_MS, 2000);
});

Deno.test("renderPage() has an element for every id its script looks up", () => {
  const used = new Set([...script.matchAll(/\$\("([\w-]+)"\)/g)].map((m) => m[1]!));
  assert.ok(used.size >= 8, [...used].join(","));
  for (const id of used) assert.match(html, new RegExp(`id="${id}"`), `missing element #${id}`);
});

Deno.test("renderPage() writes values as text, never as HTML", () => {
  assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
});
