/**
 * The REST client's request engine, one per market: the I/O shell around the pure queue order (rest_queue.ts)
 * and pacing decisions (rest_pacing.ts).
 *
 * All requests go through one priority queue and are sent one at a time, so many symbols resyncing at once never
 * burst: before each request the scheduler waits until the used weight (from `X-MBX-USED-WEIGHT-1M`) plus the
 * request's weight fits the budget. A 429 or 418 stops every request until `Retry-After` has passed; callers
 * whose deadline ends first get a {@link BinanceBanError}. 5xx answers and network failures are retried with
 * backoff. The clock, sleep and fetch are injected so tests drive time.
 *
 * @module
 */
import { type Endpoint, type EndpointName, EXTRA_BUDGETS, requestWeight } from "./endpoints.ts";
import { PROFILES } from "./markets.ts";
import { BinanceApiError, BinanceBanError, BinanceNetworkError, BinanceRetryError } from "./rest_errors.ts";
import { backoffDelay, blockMs, SlidingBudget, WeightWindow } from "./rest_pacing.ts";
import { CallQueue, type Priority, type Queued } from "./rest_queue.ts";
import type { Market } from "./types.ts";

/** Per-call options. */
export interface CallOptions {
  /** Defaults: `snapshot` for depth, `backfill` for aggTrades/klines/fundingRate, else `normal`. */
  priority?: Priority;
  /** How long the caller will wait for a 418/429 block to end before getting a BinanceBanError. */
  maxWaitMs?: number;
}

/** Fraction of each REST budget the client leaves unused, unless told otherwise. */
export const DEFAULT_SAFETY_MARGIN = 0.1;

/** Construction options; everything but `market` and `baseUrl` has a production default. */
export interface RestClientOptions {
  market: Market;
  /** e.g. `https://api.binance.com`, without a trailing slash. */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** Resolves after `ms`, rejects when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** In [0, 1), for backoff jitter. */
  random?: () => number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  /** Attempts for 5xx/network failures (default 5). */
  maxAttempts?: number;
  /** Backoff base and cap (defaults 500 ms, 15 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Fraction of each budget left unused (default 0.1). */
  safetyMargin?: number;
  /** Default for {@link CallOptions.maxWaitMs} (5 min). */
  maxWaitMs?: number;
}

/** Counters for metrics; they only grow. */
export interface RestStats {
  /** HTTP attempts sent. */
  requests: number;
  /** Attempts repeated after a 5xx or network failure. */
  retries: number;
  /** 429 answers. */
  throttled: number;
  /** 418 answers. */
  banned: number;
  /** Calls the client rejected (API, ban, retry or close errors; body parse errors are not counted). */
  failed: number;
  /** Waits to stay under a budget, and their total length. */
  pacingWaits: number;
  pacingWaitMs: number;
}

/** Query parameters of a call; undefined ones are left out. */
type Params = Record<string, string | number | undefined>;

/** A successful answer's body, and when (local clock) the request went out and the answer came in. */
export interface Sent {
  text: string;
  sentAt: number;
  receivedAt: number;
}

interface Task extends Queued {
  readonly endpoint: Endpoint;
  readonly url: string;
  readonly weight: number;
  attempts: number;
  readonly resolve: (r: Sent) => void;
  readonly reject: (e: unknown) => void;
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(id);
      reject(signal.reason);
    };
    const id = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Sends one market's REST calls in order of urgency, within its budgets, through blocks and retries. Its getters
 * back those of the RestClient (rest.ts), which document them.
 */
export class RestScheduler {
  readonly #market: Market;
  readonly #baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #maxWaitMs: number;
  readonly #weight: WeightWindow;
  readonly #fundingBudget: SlidingBudget;
  readonly #closing = new AbortController();
  readonly #queue = new CallQueue<Task>();
  readonly #stats: RestStats = {
    requests: 0,
    retries: 0,
    throttled: 0,
    banned: 0,
    failed: 0,
    pacingWaits: 0,
    pacingWaitMs: 0,
  };
  /** Server clock minus local clock; the client measures it. */
  clockOffsetMs = 0;
  #seq = 0;
  #running = false;
  #blockedUntil = 0;
  #blockStatus: 418 | 429 = 429;

  constructor(opts: RestClientOptions) {
    this.#market = opts.market;
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.#fetch = opts.fetch ?? globalThis.fetch;
    this.#now = opts.now ?? Date.now;
    this.#sleep = opts.sleep ?? defaultSleep;
    this.#random = opts.random ?? Math.random;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#maxAttempts = opts.maxAttempts ?? 5;
    this.#backoffBaseMs = opts.backoffBaseMs ?? 500;
    this.#backoffMaxMs = opts.backoffMaxMs ?? 15_000;
    this.#maxWaitMs = opts.maxWaitMs ?? 300_000;
    const margin = opts.safetyMargin ?? DEFAULT_SAFETY_MARGIN;
    this.#weight = new WeightWindow(PROFILES[this.#market].weightLimit, { margin });
    const fr = EXTRA_BUDGETS.fundingRate;
    this.#fundingBudget = new SlidingBudget(fr.limit, fr.intervalMs, margin);
  }

  /** Settable: the client adopts the REQUEST_WEIGHT limit that exchangeInfo announces. */
  get limit(): number {
    return this.#weight.limit;
  }

  set limit(limit: number) {
    this.#weight.limit = limit;
  }

  get usedWeight(): number {
    return this.#weight.used(this.#serverNow());
  }

  get stats(): Readonly<RestStats> {
    return this.#stats;
  }

  get queueLength(): number {
    return this.#queue.length;
  }

  get blockedUntil(): number | null {
    return this.#blockedUntil > this.#now() ? this.#blockedUntil : null;
  }

  /** Queues a call to `name`; `priority` is the endpoint's default, which `opts` may override. */
  call(name: EndpointName, params: Params, priority: Priority, opts?: CallOptions): Promise<Sent> {
    const endpoint = PROFILES[this.#market].endpoints[name];
    if (!endpoint) {
      return Promise.reject(new TypeError(`Cannot call ${name}: not available on ${this.#market}`));
    }
    if (this.#closing.signal.aborted) return Promise.reject(this.#closing.signal.reason);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, String(v));
    const qs = query.toString();
    const now = this.#now();
    return new Promise<Sent>((resolve, reject) => {
      const task: Task = {
        endpoint,
        url: `${this.#baseUrl}${endpoint.path}${qs === "" ? "" : `?${qs}`}`,
        weight: requestWeight(endpoint, params as { limit?: number; symbol?: string }),
        priority: opts?.priority ?? priority,
        seq: this.#seq++,
        deadline: now + (opts?.maxWaitMs ?? this.#maxWaitMs),
        attempts: 0,
        resolve,
        reject: (e) => {
          this.#stats.failed++;
          reject(e);
        },
      };
      if (this.#blockedUntil > task.deadline) {
        return task.reject(new BinanceBanError(this.#blockStatus, this.#blockedUntil));
      }
      this.#queue.push(task);
      if (!this.#running) this.#run();
    });
  }

  /** Rejects every queued call with an AbortError, aborts the one in flight, and refuses new ones. */
  close(): void {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new DOMException("RestClient closed", "AbortError"));
    for (const t of this.#queue.drain()) t.reject(this.#closing.signal.reason);
  }

  #serverNow(): number {
    return this.#now() + this.clockOffsetMs;
  }

  /** The single worker: waits out blocks and budgets, then sends the most urgent call. */
  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const now = this.#now();
        if (this.#blockedUntil > now) {
          await this.#sleep(this.#blockedUntil - now, this.#closing.signal);
          continue;
        }
        const task = this.#queue.next()!;
        const wait = Math.max(
          this.#weight.delay(task.weight, this.#serverNow()),
          task.endpoint.extraBudget === "fundingRate" ? this.#fundingBudget.delay(now) : 0,
        );
        if (wait > 0) {
          this.#stats.pacingWaits++;
          this.#stats.pacingWaitMs += wait;
          // Pick again afterwards: a more urgent call may have arrived meanwhile.
          await this.#sleep(wait, this.#closing.signal);
          continue;
        }
        this.#queue.remove(task);
        await this.#attempt(task);
      }
    } catch (e) {
      // Only close() ends the loop early (its abort rejects a sleep); it has already rejected the queue.
      if (!this.#closing.signal.aborted) throw e;
    } finally {
      this.#running = false;
    }
  }

  /** Sends `task` once and settles it, re-queues it (after a block or backoff), or fails it. */
  async #attempt(task: Task): Promise<void> {
    const path = task.endpoint.path;
    const sentAt = this.#now();
    task.attempts++;
    this.#stats.requests++;
    if (task.endpoint.extraBudget === "fundingRate") this.#fundingBudget.record(sentAt);
    let res: Response;
    let text: string;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#closing.signal]);
      res = await this.#fetch(task.url, { signal });
      text = await res.text();
    } catch (e) {
      if (this.#closing.signal.aborted) return task.reject(this.#closing.signal.reason);
      const timedOut = e instanceof DOMException && e.name === "TimeoutError";
      return await this.#retryLater(task, new BinanceNetworkError(path, timedOut, { cause: e }));
    }
    const receivedAt = this.#now();
    const used = Number.parseInt(res.headers.get("x-mbx-used-weight-1m") ?? "", 10);
    this.#weight.observe(task.weight, Number.isFinite(used) ? used : null, receivedAt + this.clockOffsetMs);

    if (res.ok) return task.resolve({ text, sentAt, receivedAt });
    if (res.status === 429 || res.status === 418) {
      const status = res.status;
      if (status === 429) this.#stats.throttled++;
      else this.#stats.banned++;
      const untilNextWindow = this.#weight.untilNextWindow(this.#serverNow());
      const wait = blockMs(status, res.headers.get("retry-after"), receivedAt, untilNextWindow);
      // A block is not the request's fault: it does not use up an attempt.
      task.attempts--;
      this.#block(status, receivedAt + wait);
      if (task.deadline < this.#blockedUntil) {
        return task.reject(new BinanceBanError(status, this.#blockedUntil));
      }
      this.#queue.push(task);
      return;
    }
    const error = BinanceApiError.fromBody(res.status, text, path);
    if (res.status >= 500) return await this.#retryLater(task, error);
    task.reject(error);
  }

  async #retryLater(task: Task, error: BinanceApiError | BinanceNetworkError): Promise<void> {
    if (task.attempts >= this.#maxAttempts) {
      return task.reject(new BinanceRetryError(task.endpoint.path, task.attempts, error));
    }
    this.#stats.retries++;
    // The host is failing for everyone, so the whole queue waits out the backoff.
    await this.#sleep(
      backoffDelay(task.attempts, this.#backoffBaseMs, this.#backoffMaxMs, this.#random),
      this.#closing.signal,
    ).catch((e) => {
      task.reject(e);
      throw e;
    });
    this.#queue.push(task);
  }

  /** Stops all requests until `until`, failing the queued calls that cannot wait that long. */
  #block(status: 418 | 429, until: number): void {
    if (until > this.#blockedUntil) {
      this.#blockedUntil = until;
      this.#blockStatus = status;
    }
    for (const t of this.#queue.removeDueBefore(this.#blockedUntil)) {
      t.reject(new BinanceBanError(this.#blockStatus, this.#blockedUntil));
    }
  }
}
