/**
 * SVG to PNG with resvg (npm `@resvg/resvg-wasm`, the Rust renderer compiled to WebAssembly) and a bundled
 * font (Roboto Mono, npm `@expo-google-fonts/roboto-mono`): both are imported as bytes, so they are part of the
 * module graph, cached with the other npm packages and embedded by `deno compile`; nothing is fetched at run
 * time and no system font is needed. The wasm module is instantiated once, on first use.
 * @module
 */

import { initWasm, Resvg } from "@resvg/resvg-wasm";
import resvgWasm from "@resvg/resvg-wasm/index_bg.wasm" with { type: "bytes" };
import robotoMono from "@expo-google-fonts/roboto-mono/400Regular/RobotoMono_400Regular.ttf" with {
  type: "bytes",
};
import { HEATMAP_FONT } from "./heatmap_svg.ts";

/** The SVG could not be rendered. */
export class PngRenderError extends Error {
  constructor(cause: unknown) {
    super(`Cannot render the picture as PNG: ${(cause as Error)?.message ?? cause}`);
    this.name = "PngRenderError";
    this.cause = cause;
  }
}

let ready: Promise<void> | null = null;

/**
 * Renders an SVG document to PNG bytes at its own size.
 *
 * @example
 * ```ts
 * const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="2">' +
 *   '<rect width="4" height="2" fill="#1a7f37"/></svg>';
 * const png = await svgToPng(svg);
 * png.subarray(1, 4); // the bytes of "PNG"
 * ```
 */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  ready ??= initWasm(resvgWasm).catch((err) => {
    ready = null;
    throw new PngRenderError(err);
  });
  await ready;
  try {
    const resvg = new Resvg(svg, {
      font: { fontBuffers: [robotoMono], defaultFontFamily: HEATMAP_FONT, loadSystemFonts: false },
    });
    const image = resvg.render();
    const png = image.asPng();
    image.free();
    resvg.free();
    return png;
  } catch (err) {
    throw new PngRenderError(err);
  }
}

/** Width and height from a PNG's IHDR chunk; throws when `png` is not a PNG. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || signature.some((b, i) => png[i] !== b)) {
    throw new PngRenderError("not a PNG (bad signature)");
  }
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  if (String.fromCharCode(...png.subarray(12, 16)) !== "IHDR") throw new PngRenderError("no IHDR chunk");
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
