/**
 * SVG to PNG, rendered in a Web Worker (png_worker.ts) that lives for one picture: on the main thread, drawing
 * a whole market's coverage heatmap (840 × 880 px) stalled the feed 255–290 ms. A worker per picture (the
 * daily report's, or one asked for with /coverage) takes longer, since each compiles resvg's WebAssembly again
 * (240–350 ms in all), but off the feed's thread, and gives resvg's memory back once the picture is drawn.
 * @module
 */

/** The SVG could not be rendered. */
export class PngRenderError extends Error {
  constructor(cause: unknown) {
    super(`Cannot render the picture as PNG: ${(cause as Error)?.message ?? cause}`);
    this.name = "PngRenderError";
    this.cause = cause;
  }
}

/** The worker's answer: the PNG, or why resvg could not render the SVG. */
export type PngReply = { png: Uint8Array } | { error: string };

/**
 * Renders an SVG document to PNG bytes at its own size, in a worker of its own.
 *
 * @example
 * ```ts
 * const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="2">' +
 *   '<rect width="4" height="2" fill="#1a7f37"/></svg>';
 * const png = await svgToPng(svg);
 * png.subarray(1, 4); // the bytes of "PNG"
 * ```
 */
export function svgToPng(svg: string): Promise<Uint8Array> {
  const worker = new Worker(new URL("./png_worker.ts", import.meta.url).href, { type: "module" });
  return new Promise<Uint8Array>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<PngReply>) => {
      worker.terminate();
      if ("png" in e.data) resolve(e.data.png);
      else reject(new PngRenderError(e.data.error));
    };
    worker.onerror = (e) => {
      e.preventDefault();
      worker.terminate();
      reject(new PngRenderError(e.message));
    };
    worker.postMessage(svg);
  });
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
