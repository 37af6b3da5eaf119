/**
 * A small WebSocket test client for the simulator: buffers every text frame and lets a test wait for frames
 * matching a predicate, for the socket to close, or for a period of time.
 */

/** A parsed or raw frame. */
export interface Frame {
  text: string;
  /** JSON value of the frame, or undefined when it is not JSON. */
  json: unknown;
}

/** Thrown when a wait runs out of time. */
export class WaitTimeoutError extends Error {
  constructor(what: string) {
    super(`Timed out waiting for ${what}`);
    this.name = "WaitTimeoutError";
  }
}

/** A connected test client. */
export class TestClient {
  readonly socket: WebSocket;
  readonly frames: Frame[] = [];
  closeEvent: CloseEvent | null = null;
  readonly #waiters = new Set<() => void>();

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.onmessage = (e) => {
      const text = String(e.data);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      this.frames.push({ text, json });
      this.#wake();
    };
    socket.onclose = (e) => {
      this.closeEvent = e;
      this.#wake();
    };
  }

  /** Opens a connection; rejects if the server refuses it. */
  static open(url: string): Promise<TestClient> {
    const socket = new WebSocket(url);
    const client = new TestClient(socket);
    return new Promise((resolve, reject) => {
      socket.onopen = () => resolve(client);
      socket.onerror = () => reject(new Error(`Cannot connect to ${url}`));
    });
  }

  /** Sends a JSON control message. */
  send(msg: unknown): void {
    this.socket.send(JSON.stringify(msg));
  }

  /** Waits until `count` frames after index `from` satisfy `pred`; returns them. */
  async waitFor(
    pred: (f: Frame) => boolean,
    opts: { count?: number; from?: number; timeoutMs?: number; what?: string } = {},
  ): Promise<Frame[]> {
    const count = opts.count ?? 1;
    const found = () => this.frames.slice(opts.from ?? 0).filter(pred);
    await this.#until(() => found().length >= count, opts.timeoutMs ?? 3000, opts.what ?? "frames");
    return found().slice(0, count);
  }

  /** Waits for the reply to control message `id`. */
  async reply(id: unknown): Promise<Record<string, unknown>> {
    const [f] = await this.waitFor((f) => isObject(f.json) && f.json.id === id && !("stream" in f.json), {
      what: `reply ${id}`,
    });
    return f!.json as Record<string, unknown>;
  }

  /** Waits until the server closes the socket. */
  async closed(timeoutMs = 3000): Promise<CloseEvent> {
    await this.#until(() => this.closeEvent !== null, timeoutMs, "close");
    return this.closeEvent!;
  }

  /** Closes from the client side and waits for the close to finish. */
  async close(): Promise<void> {
    if (this.closeEvent === null) {
      this.socket.close();
      await this.closed();
    }
  }

  #until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new WaitTimeoutError(what));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}

/** True for a plain JSON object. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The payload of a frame (unwrapping the combined envelope). */
export function payload(f: Frame): Record<string, unknown> | undefined {
  if (!isObject(f.json)) return undefined;
  const data = f.json.data;
  return "stream" in f.json && isObject(data) ? data : f.json;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sends a WebSocket upgrade request over plain TCP and returns the HTTP status and headers of the answer. */
export async function upgradeResponse(
  wsUrl: string,
): Promise<{ status: number; headers: Map<string, string> }> {
  const url = new URL(wsUrl);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  try {
    const request =
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    let head = "";
    const buf = new Uint8Array(4096);
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    const [statusLine, ...lines] = head.split("\r\n\r\n")[0]!.split("\r\n");
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    return { status: Number(statusLine!.split(" ")[1]), headers };
  } finally {
    conn.close();
  }
}
