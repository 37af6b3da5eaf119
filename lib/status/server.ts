/**
 * The status HTTP server: `/` (live page) with its `/assets/`, `/status.json` (totals and the worst symbols,
 * see summary.ts), `/health` (200 or 503 with the reasons), `/metrics` (Prometheus) and the chart data
 * `/charts/{rates,coverage,gaps}.json`. Every request takes a fresh snapshot from the {@link StatusSource}, so
 * the server keeps no state and a slow scrape never touches the collector's hot path. Every answer is bounded
 * by page sizes, not by the number of symbols, except `/metrics`, which keeps one series per symbol-stream
 * unless asked not to and is rendered while it is sent (paced_body.ts). Answers are compressed when the client asks.
 * @module
 */

import { type Logger, RateLimitedLog, silentLogger } from "../log.ts";
import { assetAt } from "./assets.ts";
import { ChartQueryError, chartRoute, type ChartSource } from "./charts_api.ts";
import { type Health, healthOf } from "./health.ts";
import { METRICS_CONTENT_TYPE, metricsPieces } from "./metrics.ts";
import { pacedBody } from "./paced_body.ts";
import { renderPage } from "./page.ts";
import type { StatusSnapshot, StatusSource } from "./snapshot.ts";
import { type StatusSummary, summarizeStatus } from "./summary.ts";

/** Where to listen and what to show. */
export interface StatusServerOptions {
  /** Interface to bind; keep it on loopback unless a proxy with authentication sits in front. */
  hostname: string;
  /** 0 picks a free port (tests). */
  port: number;
  source: StatusSource;
  /** Chart data (ledger coverage and gaps, rate history); without it the `/charts/` routes answer 404. */
  charts?: ChartSource;
  /**
   * Whether `/metrics` includes the per symbol-stream and per book series (true by default; see
   * `MetricsOptions.perSymbol` in metrics.ts). A scrape may ask otherwise with `?per_symbol=0` or `1`.
   */
  metricsPerSymbol?: boolean;
  log?: Logger;
}

/** A running status server. */
export interface StatusServer {
  /** Base URL, e.g. `http://127.0.0.1:8377`. */
  readonly url: string;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Stops listening and closes every connection, answers still being sent cut short. Idempotent. */
  close(): Promise<void>;
}

/** The server could not listen (address in use, no permission, bad hostname). */
export class StatusServerError extends Error {
  constructor(hostname: string, port: number, cause: unknown) {
    super(`Cannot start the status server on ${hostname}:${port}: ${(cause as Error)?.message ?? cause}`);
    this.name = "StatusServerError";
    this.cause = cause;
  }
}

/** `/status.json`: totals per market, the worst symbols and a bounded health verdict, so the page needs one request. */
export type StatusDocument = StatusSummary;

/** `/health`: the verdict with at most {@linkcode HEALTH_PROBLEMS} problems listed and their total count. */
export type HealthDocument = Health & { problemCount: number };

/** Problems listed by `/health`. */
export const HEALTH_PROBLEMS = 50;

const NO_STORE = { "cache-control": "no-store" };
// The page has inline style and script plus its own /assets/; nothing else may load, and it may only call home.
const PAGE_CSP =
  "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { ...NO_STORE, "content-type": "application/json; charset=utf-8" },
  });

const text = (body: string, status: number, contentType = "text/plain; charset=utf-8"): Response =>
  new Response(body, { status, headers: { ...NO_STORE, "content-type": contentType } });

const unhealthy = (problem: string): HealthDocument => ({
  ok: false,
  problemCount: 1,
  problems: [{ market: null, symbol: null, stream: null, problem }],
});

const SNAPSHOT_ROUTES = new Set(["/health", "/metrics", "/status.json"]);

/** `?per_symbol=`'s value, the default when absent, null when it is none of 0, 1, false, true. */
function perSymbolOf(param: string | null, fallback: boolean): boolean | null {
  if (param === null) return fallback;
  if (param === "1" || param === "true") return true;
  if (param === "0" || param === "false") return false;
  return null;
}

async function handle(
  req: Request,
  options: StatusServerOptions,
  failures: RateLimitedLog,
): Promise<Response> {
  const { source } = options;
  if (req.method !== "GET" && req.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  const { pathname, searchParams } = new URL(req.url);
  const asset = assetAt(pathname);
  if (asset) {
    // Versioned names: a browser may keep them.
    return new Response(asset.body, {
      headers: { "content-type": asset.contentType, "cache-control": "public, max-age=31536000, immutable" },
    });
  }
  if (pathname.startsWith("/charts/") && options.charts) {
    try {
      const doc = await chartRoute(pathname, searchParams, options.charts, Date.now());
      if (doc !== null) return json(doc);
    } catch (err) {
      if (err instanceof ChartQueryError) return text(`${err.message}\n`, 400);
      failures.write("error", "chart data failed", { path: pathname, error: String(err) });
      return text(`chart data failed: ${err}\n`, 500);
    }
  }
  if (pathname === "/") {
    return new Response(renderPage(), {
      headers: {
        ...NO_STORE,
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": PAGE_CSP,
      },
    });
  }
  if (!SNAPSHOT_ROUTES.has(pathname)) return text("not found\n", 404);
  let perSymbol = true;
  if (pathname === "/metrics") {
    const asked = perSymbolOf(searchParams.get("per_symbol"), options.metricsPerSymbol ?? true);
    if (asked === null) return text("per_symbol must be 0, 1, false or true\n", 400);
    perSymbol = asked;
  }
  let snapshot: StatusSnapshot;
  try {
    snapshot = await source.snapshot();
  } catch (err) {
    failures.write("error", "status snapshot failed", { path: pathname, error: String(err) });
    // /health must not answer 200 when the collector cannot even describe itself.
    return pathname === "/health"
      ? json(unhealthy(`status snapshot failed: ${err}`), 503)
      : text(`status snapshot failed: ${err}\n`, 500);
  }
  switch (pathname) {
    case "/health": {
      const health = healthOf(snapshot);
      const doc: HealthDocument = {
        ok: health.ok,
        problemCount: health.problems.length,
        problems: health.problems.slice(0, HEALTH_PROBLEMS),
      };
      return json(doc, health.ok ? 200 : 503);
    }
    case "/metrics":
      return new Response(pacedBody(metricsPieces(snapshot, { perSymbol })), {
        headers: { ...NO_STORE, "content-type": METRICS_CONTENT_TYPE },
      });
    default:
      return json(summarizeStatus(snapshot) satisfies StatusDocument);
  }
}

/**
 * Starts listening at once. Throws {@link StatusServerError} when the address cannot be bound.
 *
 * @example
 * ```ts
 * import { Histogram } from "./histogram.ts";
 * import type { StatusSnapshot } from "./snapshot.ts";
 *
 * const nowMs = Date.now();
 * const snapshot: StatusSnapshot = {
 *   version: "0.4.0", startedAtMs: nowMs - 60_000, nowMs,
 *   streams: [{
 *     market: "spot", symbol: "BTCUSDT", stream: "aggTrade", connected: true, stale: false, messages: 1234,
 *     bytes: 250_000, msgsPerSec: 20, lastMessageAgeMs: 40, gaps: 0, gapsToday: 0, coverageTodayPct: 100,
 *   }],
 *   books: [{ market: "spot", symbol: "BTCUSDT", state: "buffering", resyncs: 0 }],
 *   rest: [{ market: "spot", weightUsed: 25, weightLimit: 6000 }],
 *   clock: [],
 *   disk: null,
 *   journal: { unsyncedBytes: 0, sinceFsyncMs: 120, errors: 0 },
 *   flushes: { durations: new Histogram([0.1, 1]).snapshot(), failures: 0 },
 * };
 *
 * const server = startStatusServer({ hostname: "127.0.0.1", port: 0, source: { snapshot: () => snapshot } });
 * const health = await fetch(`${server.url}/health`);
 * health.status; // 503: a book is still buffering
 * await health.body?.cancel();
 * // later, at shutdown
 * await server.close();
 * ```
 */
export function startStatusServer(options: StatusServerOptions): StatusServer {
  const { hostname, port } = options;
  const log = options.log ?? silentLogger;
  const failures = new RateLimitedLog(log);
  let server: Deno.HttpServer<Deno.NetAddr>;
  // Closing aborts: `shutdown()` waits for every response to be sent, which a client that stopped reading
  // (a whole market's /metrics is ~7 MB) made last until it went away, holding up the collector's stop.
  const abort = new AbortController();
  try {
    server = Deno.serve(
      // Off by default in Deno 2: answers are compressed when the client asks (Prometheus: gzip).
      { hostname, port, onListen: () => {}, automaticCompression: true, signal: abort.signal },
      (req) => handle(req, options, failures),
    );
  } catch (err) {
    throw new StatusServerError(hostname, port, err);
  }
  const bound = server.addr;
  const host = bound.hostname.includes(":") ? `[${bound.hostname}]` : bound.hostname;
  const url = `http://${host}:${bound.port}`;
  log("info", "status server listening", { url });
  let closing: Promise<void> | null = null;
  return {
    url,
    port: bound.port,
    close: () => (closing ??= (abort.abort(), server.finished)),
  };
}
