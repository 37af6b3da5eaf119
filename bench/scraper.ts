/**
 * `deno task bench --market --scrape S`: a Prometheus-like client of the collector's `/metrics` while the
 * whole market runs, so that the bench's lag and CPU figures include what a scrape costs the collector.
 * @module
 */

import { percentile } from "./stats.ts";

/** Fetches a URL every few seconds as Prometheus scrapes (gzip asked for), counting answers and bytes. */
export class Scraper {
  #ok = 0;
  #failed = 0;
  #bytes = 0;
  #ms: number[] = [];
  #timer: ReturnType<typeof setInterval>;
  #inFlight: Promise<void> | null = null;
  #lastError = "";

  constructor(readonly url: string, seconds: number) {
    this.#timer = setInterval(
      () => this.#inFlight ??= this.#scrape().finally(() => this.#inFlight = null),
      seconds * 1000,
    );
  }

  async #scrape(): Promise<void> {
    const t = performance.now();
    try {
      const res = await fetch(this.url, { headers: { "accept-encoding": "gzip" } });
      const body = await res.arrayBuffer(); // decompressed by fetch
      if (!res.ok || res.headers.get("content-encoding") !== "gzip") {
        throw new Error(`status ${res.status}, content-encoding ${res.headers.get("content-encoding")}`);
      }
      this.#bytes = body.byteLength;
      this.#ms.push(performance.now() - t);
      this.#ok++;
    } catch (err) {
      this.#failed++;
      this.#lastError = String(err);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#inFlight;
  }

  summary(): string {
    const ms = Float64Array.from(this.#ms).sort();
    const failed = this.#failed === 0 ? "0 failed" : `${this.#failed} failed (last: ${this.#lastError})`;
    return `${this.#ok} scrapes, ${failed}; ${(this.#bytes / 1048576).toFixed(1)} MiB of text each; ` +
      `answered in median ${percentile(ms, 0.5).toFixed(0)} ms, max ${Math.max(0, ...ms).toFixed(0)} ms`;
  }
}
