import assert from "node:assert/strict";
import { clip, escapeHtml, MAX_MESSAGE_CHARS, preBlock, preText } from "../../lib/telegram/html.ts";

Deno.test("escapeHtml() escapes the three characters Telegram HTML needs", () => {
  assert.equal(escapeHtml(`a<b>&"c'`), `a&lt;b&gt;&amp;"c'`);
  assert.equal(escapeHtml("&amp;"), "&amp;amp;");
});

Deno.test("preBlock() escapes lines and cuts whole lines to fit one message", () => {
  assert.equal(preBlock(["x < y", "ok"]), "<pre>x &lt; y\nok</pre>");
  const lines = Array.from({ length: 500 }, (_, i) => `line ${String(i).padStart(3, "0")} ${"-".repeat(20)}`);
  const block = preBlock(lines);
  assert.ok(block.length <= MAX_MESSAGE_CHARS - 200, `${block.length} characters`);
  const body = block.slice("<pre>".length, -"</pre>".length).split("\n");
  const kept = body.length - 1;
  assert.equal(body.at(-1), `… ${500 - kept} more lines`);
  assert.deepEqual(body.slice(0, kept), lines.slice(0, kept));
  assert.ok(kept > 100);
});

Deno.test("preText() drops the final newline of a report", () => {
  assert.equal(preText("a\nb\n"), "<pre>a\nb</pre>");
});

Deno.test("clip() marks a cut with an ellipsis", () => {
  assert.equal(clip("abcdef", 6), "abcdef");
  assert.equal(clip("abcdefg", 6), "abcde…");
});
