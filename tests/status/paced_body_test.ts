import assert from "node:assert/strict";
import { pacedBody } from "../../lib/status/paced_body.ts";

/** `n` pieces, each taking at least `ms` of busy work to render. */
function* slowPieces(n: number, ms: number): Generator<string> {
  for (let i = 0; i < n; i++) {
    const until = performance.now() + ms;
    while (performance.now() < until) { /* rendering */ }
    yield `line ${i}\n`;
  }
}

Deno.test("pacedBody() sends every piece in order and lets timers run while it renders", async () => {
  let rendered = 0;
  function* counted() {
    for (const piece of slowPieces(8, 3)) {
      rendered++;
      yield piece;
    }
  }
  let renderedWhenTimerRan = -1;
  setTimeout(() => renderedWhenTimerRan = rendered, 0);
  const text = await new Response(pacedBody(counted(), 5)).text();
  assert.equal(text, Array.from({ length: 8 }, (_, i) => `line ${i}\n`).join(""));
  // A slice ends once 5 ms passed: after the second piece (6 ms), or the first on a slow machine.
  assert.ok(
    renderedWhenTimerRan >= 1 && renderedWhenTimerRan <= 2,
    `timer ran after ${renderedWhenTimerRan}`,
  );
});

Deno.test("pacedBody() errors the stream when a piece fails, after the pieces before it", async () => {
  function* failing(): Generator<string> {
    yield "first\n";
    throw new Error("cannot render");
  }
  const reader = pacedBody(failing(), 0).getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), "first\n");
  await assert.rejects(reader.read(), /cannot render/);
});

Deno.test("pacedBody() stops rendering when the client goes away", async () => {
  let finished = false;
  function* pieces(): Generator<string> {
    try {
      for (let i = 0;; i++) yield `line ${i}\n`;
    } finally {
      finished = true;
    }
  }
  const reader = pacedBody(pieces(), 0).getReader();
  await reader.read();
  await reader.cancel();
  assert.equal(finished, true);
});
