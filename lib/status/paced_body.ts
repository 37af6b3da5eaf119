/**
 * A response body rendered while it is sent: text pieces are taken from a generator for at most `sliceMs` per
 * event-loop turn, so a big document (the whole market's `/metrics`, ~7 MB, 35–50 ms of rendering) does not
 * stall the feed, and is never held whole in memory.
 * @module
 */

import { nextTurn } from "../loop_lag.ts";

/** Rendering time per event-loop turn, in ms. */
const SLICE_MS = 4;

/**
 * A byte stream of `pieces`, in order; an error thrown by the generator errors the stream (the response is cut
 * short, never passed off as whole), and a client that goes away stops the generator.
 *
 * @example
 * ```ts
 * function* pieces() {
 *   yield "a ";
 *   yield "b\n";
 * }
 * await new Response(pacedBody(pieces())).text(); // "a b\n"
 * ```
 */
export function pacedBody(pieces: Generator<string>, sliceMs = SLICE_MS): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let first = true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!first) await nextTurn();
      first = false;
      const start = performance.now();
      let text = "";
      for (;;) {
        const next = pieces.next();
        if (next.done) {
          if (text !== "") controller.enqueue(encoder.encode(text));
          controller.close();
          return;
        }
        text += next.value;
        if (performance.now() - start >= sliceMs) break;
      }
      controller.enqueue(encoder.encode(text));
    },
    cancel() {
      pieces.return(undefined);
    },
  }, { highWaterMark: 0 });
}
