/**
 * The status HTTP server: `/` (live page), `/status.json` (snapshot + health), `/health` (200 or 503 with the
 * reasons) and `/metrics` (Prometheus). Every request takes a fresh snapshot from the {@link StatusSource}, so
 * the server keeps no state and a slow scrape never touches the collector's hot path.
 * @module
 */

import { type Logger, RateLimitedLog, silentLogger } from "../log.ts";
import { type Health, healthOf } from "./health.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";
import { renderPage } from "./page.ts";
import type { StatusSnapshot, StatusSource } from "./snapshot.ts";

/** Where to listen and what to show. */
export interface StatusServerOptions {
  /** Interface to bind; keep it on loopback unless a proxy with authentication sits in front. */
  hostname: string;
  /** 0 picks a free port (tests). */
  port: number;
  source: StatusSource;
  log?: Logger;
}

/** A running status server. */
export interface StatusServer {
  /** Base URL, e.g. `http://127.0.0.1:8377`. */
  readonly url: string;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Stops listening and waits for open requests to finish. Idempotent. */
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

/** `/status.json`: the snapshot with its health verdict, so the page needs one request. */
export type StatusDocument = StatusSnapshot & { health: Health };

const NO_STORE = { "cache-control": "no-store" };
// The page is one document with inline style and script; nothing else may load, and it may only call home.
const PAGE_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { ...NO_STORE, "content-type": "application/json; charset=utf-8" },
  });

const text = (body: string, status: number, contentType = "text/plain; charset=utf-8"): Response =>
  new Response(body, { status, headers: { ...NO_STORE, "content-type": contentType } });

const unhealthy = (problem: string): Health => ({
  ok: false,
  problems: [{ market: null, symbol: null, stream: null, problem }],
});

const SNAPSHOT_ROUTES = new Set(["/health", "/metrics", "/status.json"]);

async function handle(req: Request, source: StatusSource, failures: RateLimitedLog): Promise<Response> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  const { pathname } = new URL(req.url);
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
      return json(health, health.ok ? 200 : 503);
    }
    case "/metrics":
      return text(renderMetrics(snapshot), 200, METRICS_CONTENT_TYPE);
    default:
      return json({ ...snapshot, health: healthOf(snapshot) } satisfies StatusDocument);
  }
}

/**
 * Starts listening at once. Throws {@link StatusServerError} when the address cannot be bound.
 *
 * @example
 * ```ts
 * const server = startStatusServer({ ...config.status, source: collectorStatus, log });
 * // later, at shutdown
 * await server.close();
 * ```
 */
export function startStatusServer(options: StatusServerOptions): StatusServer {
  const { hostname, port, source } = options;
  const log = options.log ?? silentLogger;
  const failures = new RateLimitedLog(log);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname, port, onListen: () => {} },
      (req) => handle(req, source, failures),
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
    close: () => (closing ??= server.shutdown()),
  };
}
