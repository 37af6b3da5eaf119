/**
 * Errors of the REST client, sorted by what the caller does next:
 * - {@link BinanceApiError}: Binance answered and refused (4xx other than 429/418): fix the request, do not retry.
 * - {@link BinanceBanError}: Binance blocks this IP (418) or asked us to back off (429) for longer than the
 *   caller was willing to wait: try again after `until`.
 * - {@link BinanceNetworkError}: the request never got an answer (connection failure or timeout).
 * - {@link BinanceRetryError}: a transient failure (5xx or network) persisted through every attempt.
 */

/** Binance answered with an error status; `code`/`msg` come from its `{"code":..,"msg":..}` body if any. */
export class BinanceApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | null,
    readonly msg: string,
    readonly path: string,
  ) {
    super(`Binance ${path} answered HTTP ${status}${code === null ? "" : ` code ${code}`}: ${msg}`);
    this.name = "BinanceApiError";
  }

  /**
   * Builds the error from a response body, reading Binance's `{"code":..,"msg":..}` when present.
   *
   * @example
   * ```ts
   * BinanceApiError.fromBody(400, '{"code":-1121,"msg":"Invalid symbol."}', "/api/v3/depth").code; // -1121
   * ```
   */
  static fromBody(status: number, body: string, path: string): BinanceApiError {
    try {
      const v: unknown = JSON.parse(body);
      if (typeof v === "object" && v !== null) {
        const { code, msg } = v as { code?: unknown; msg?: unknown };
        if (typeof code === "number" && typeof msg === "string") {
          return new BinanceApiError(status, code, msg, path);
        }
      }
    } catch {
      // Not JSON (an HTML error page from a proxy or WAF): keep the start of the text below.
    }
    return new BinanceApiError(status, null, body.slice(0, 200), path);
  }
}

/** Requests are blocked by Binance (HTTP 418 ban or 429 back-off) until `until`, past the caller's deadline. */
export class BinanceBanError extends Error {
  constructor(readonly status: 418 | 429, readonly until: number) {
    super(
      `Binance ${status === 418 ? "banned this IP" : "rate-limited this IP"} (HTTP ${status}) until ${
        new Date(until).toISOString()
      }, past the request's deadline`,
    );
    this.name = "BinanceBanError";
  }
}

/** The request got no HTTP answer: connection refused or reset, DNS failure, or timeout. */
export class BinanceNetworkError extends Error {
  constructor(readonly path: string, readonly timedOut: boolean, options?: ErrorOptions) {
    super(`Binance ${path}: ${timedOut ? "request timed out" : "network error"}`, options);
    this.name = "BinanceNetworkError";
  }
}

/** Every attempt of a request failed transiently; `cause` is the last failure. */
export class BinanceRetryError extends Error {
  constructor(
    readonly path: string,
    readonly attempts: number,
    cause: BinanceApiError | BinanceNetworkError,
  ) {
    super(`Binance ${path} failed after ${attempts} attempts: ${cause.message}`, { cause });
    this.name = "BinanceRetryError";
  }
}
