/**
 * Worker side of {@link svgToPng}: renders one SVG with resvg (npm `@resvg/resvg-wasm`, the Rust renderer
 * compiled to WebAssembly) and a bundled font (Roboto Mono, npm `@expo-google-fonts/roboto-mono`). Both are
 * imported as bytes, so they are part of the module graph, cached with the other npm packages and embedded by
 * `deno compile`; nothing is fetched at run time and no system font is needed. Its thread runs at a lower
 * priority than the feed's (thread_priority.ts).
 */
/// <reference lib="deno.worker" />
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import resvgWasm from "@resvg/resvg-wasm/index_bg.wasm" with { type: "bytes" };
import robotoMono from "@expo-google-fonts/roboto-mono/400Regular/RobotoMono_400Regular.ttf" with {
  type: "bytes",
};
import { HEATMAP_FONT } from "./heatmap_svg.ts";
import type { PngReply } from "./png.ts";
import { lowerThreadPriority } from "../thread_priority.ts";

lowerThreadPriority();
const ready = initWasm(resvgWasm);

self.onmessage = async (e: MessageEvent<string>) => {
  let reply: PngReply;
  try {
    await ready;
    const resvg = new Resvg(e.data, {
      font: { fontBuffers: [robotoMono], defaultFontFamily: HEATMAP_FONT, loadSystemFonts: false },
    });
    const image = resvg.render();
    const png = image.asPng();
    image.free();
    resvg.free();
    reply = { png };
  } catch (err) {
    reply = { error: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(reply, "png" in reply ? [reply.png.buffer as ArrayBuffer] : []);
};
