/**
 * Request parameters and error responses of the simulated REST API: Binance's parameter checks and error
 * bodies (`{"code":-1121,"msg":"Invalid symbol."}`), and weight tiers.
 */

const JSON_TYPE = "application/json;charset=UTF-8";

/** What the shell should do with a request. */
export type RestOutcome =
  | { kind: "response"; status: number; headers: Record<string, string>; body: string }
  | { kind: "hang"; ms: number };

/** A request refused with a Binance error body. */
export class RestRequestError extends Error {
  readonly code: number;
  readonly status: number;
  constructor(code: number, msg: string, status = 400) {
    super(msg);
    this.name = "RestRequestError";
    this.code = code;
    this.status = status;
  }
}

/** A successful JSON response carrying the used weight. */
export function ok(body: string, used: number): RestOutcome {
  return {
    kind: "response",
    status: 200,
    headers: { "content-type": JSON_TYPE, "x-mbx-used-weight-1m": String(used) },
    body,
  };
}

/** A Binance error response. */
export function error(
  status: number,
  code: number,
  msg: string,
  used: number,
  retryAfterSec?: number,
): RestOutcome {
  const headers: Record<string, string> = { "content-type": JSON_TYPE, "x-mbx-used-weight-1m": String(used) };
  if (retryAfterSec !== undefined) headers["retry-after"] = String(retryAfterSec);
  return { kind: "response", status, headers, body: JSON.stringify({ code, msg }) };
}

/** An optional non-negative integer parameter. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^[0-9]{1,20}$/.test(v)) {
    throw new RestRequestError(
      -1100,
      `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`,
    );
  }
  return Number(v);
}

/** The `limit` parameter: `fallback` when absent, at most `max`; below 1 is an error. */
export function boundedLimit(q: URLSearchParams, fallback: number, max: number): number {
  const limit = intParam(q, "limit") ?? fallback;
  if (limit < 1) throw new RestRequestError(-1100, "Illegal characters found in parameter 'limit'.");
  return Math.min(limit, max);
}

/** The weight of the first tier whose bound is ≥ `value`, else `above`. */
export function tiered(value: number, tiers: readonly (readonly [number, number])[], above: number): number {
  for (const [upTo, weight] of tiers) if (value <= upTo) return weight;
  return above;
}

/** The `symbols` parameter: a JSON array of strings, e.g. `["BTCUSDT","ETHUSDT"]`. */
export function parseSymbolList(text: string): string[] {
  try {
    const list: unknown = JSON.parse(text);
    if (Array.isArray(list) && list.every((s) => typeof s === "string")) return list;
  } catch {
    // Falls through to the Binance error below.
  }
  throw new RestRequestError(-1100, "Illegal characters found in parameter 'symbols'.");
}
