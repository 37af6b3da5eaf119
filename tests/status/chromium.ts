/**
 * Headless Chromium for the status page tests: finds the Debian `chromium` binary, launches it with a
 * throw-away profile, and speaks just enough of the DevTools protocol (over Deno's WebSocket) to load a page
 * and evaluate expressions in it. No npm browser download is involved.
 */

/** Flags for a quiet, sandbox-free headless run that contacts nothing but the page under test. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--hide-scrollbars",
];

/** The first Chromium that runs (`$CHROMIUM_BIN`, then Debian's names), or null when none is installed. */
export async function findChromium(): Promise<string | null> {
  const env = Deno.env.get("CHROMIUM_BIN");
  for (const bin of env ? [env] : ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      const out = await new Deno.Command(bin, { args: ["--version"], stdout: "null", stderr: "null" })
        .output();
      if (out.success) return bin;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return null;
}

/** Runs Chromium to completion (e.g. `--screenshot`), killing it after `timeoutMs`. */
export async function runChromium(
  bin: string,
  args: string[],
  timeoutMs: number,
): Promise<Deno.CommandOutput> {
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  try {
    const child = new Deno.Command(bin, {
      args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    try {
      return await child.output();
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await Deno.remove(profile, { recursive: true });
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** A page in a running headless Chromium, driven over the DevTools protocol. */
export class ChromiumPage {
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();

  private constructor(
    private readonly child: Deno.ChildProcess,
    private readonly ws: WebSocket,
    private readonly profile: string,
    private readonly stderrDrained: Promise<void>,
  ) {
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data as string) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      const p = msg.id === undefined ? undefined : this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(`DevTools: ${msg.error.message}`));
      else p.resolve(msg.result);
    };
  }

  /** Launches Chromium with a blank page of the given size and connects to that page. */
  static async launch(bin: string, width: number, height: number): Promise<ChromiumPage> {
    const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
    const child = new Deno.Command(bin, {
      args: [
        ...CHROMIUM_FLAGS,
        `--user-data-dir=${profile}`,
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        `--window-size=${width},${height}`,
        "about:blank",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      const { port, drained } = await devToolsPort(child.stderr, 20_000);
      const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as {
        type: string;
        webSocketDebuggerUrl: string;
      }[];
      const page = targets.find((t) => t.type === "page");
      if (!page) throw new Error("Chromium opened no page target");
      const ws = new WebSocket(page.webSocketDebuggerUrl);
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error("Cannot connect to the DevTools WebSocket"));
      });
      return new ChromiumPage(child, ws, profile, drained);
    } catch (err) {
      child.kill("SIGKILL");
      await child.status;
      await Deno.remove(profile, { recursive: true });
      throw err;
    }
  }

  /** Sends one DevTools command and waits for its result. */
  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Starts loading `url`; wait for its content with {@link waitFor}. */
  async goto(url: string): Promise<void> {
    await this.send("Page.navigate", { url });
  }

  /** Evaluates `expression` in the page and returns its (JSON) value. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    }) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) {
      throw new Error(`Page threw: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    }
    return r.result.value as T;
  }

  /** Evaluates until `accept` holds for the value, every 100 ms, for at most `timeoutMs`. */
  async waitFor<T>(expression: string, accept: (v: T) => boolean, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: T | undefined;
    while (Date.now() < deadline) {
      try {
        last = await this.evaluate<T>(expression);
        if (accept(last)) return last;
      } catch {
        // The page may be between documents while it loads.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `Timed out after ${timeoutMs} ms waiting on ${expression}; last value ${JSON.stringify(last)}`,
    );
  }

  /** Closes the connection and the browser (the process this class started), and removes the profile. */
  async close(): Promise<void> {
    this.ws.close();
    for (const p of this.#pending.values()) p.reject(new Error("Chromium closed"));
    this.#pending.clear();
    this.child.kill("SIGTERM");
    await this.child.status;
    await this.stderrDrained;
    await Deno.remove(this.profile, { recursive: true });
  }
}

/**
 * Reads Chromium's stderr until it announces its DevTools port, then keeps draining it (Chromium blocks once
 * the pipe fills); `drained` resolves when the process closes stderr.
 */
async function devToolsPort(
  stderr: ReadableStream<Uint8Array>,
  timeoutMs: number,
): Promise<{ port: number; drained: Promise<void> }> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => reader.cancel(), timeoutMs);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      const m = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(text);
      if (m) {
        const drained = (async () => {
          while (!(await reader.read()).done);
        })().catch(() => {});
        return { port: Number(m[1]), drained };
      }
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`Chromium did not announce a DevTools port within ${timeoutMs} ms:\n${text.slice(-2000)}`);
}
