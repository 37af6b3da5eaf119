/**
 * A tiny loopback WebSocket server for connection tests: records every client message with its arrival time
 * and lets each test script the replies.
 */

/** A SUBSCRIBE as the server received it. */
export interface Received {
  /** Index of the server-side socket (0 = first connection). */
  socket: number;
  atMs: number;
  id: number | null;
  method: string;
  params: string[];
}

/** Test-scripted behaviour. */
export interface Script {
  /** Status to refuse the upgrade with (e.g. 403); undefined = accept. */
  refuse?(socket: number): number | undefined;
  /** Called for every SUBSCRIBE; the default acknowledges it at once. */
  onSubscribe?(ws: WebSocket, msg: Received): void;
  /** Called when a socket opens. */
  onConnect?(ws: WebSocket, socket: number): void;
}

/** The running server. */
export interface TestServer {
  /** Base URL without a path, like a configured `wsUrl`. */
  baseUrl: string;
  received: Received[];
  /** Request paths in connection order, including refused ones. */
  paths: string[];
  sockets: WebSocket[];
  shutdown(): Promise<void>;
}

/** Acknowledges a SUBSCRIBE the way Binance does. */
export function ack(ws: WebSocket, msg: Received): void {
  ws.send(JSON.stringify({ result: null, id: msg.id }));
}

/** Starts the server on an ephemeral loopback port. */
export function startServer(script: Script = {}): TestServer {
  const received: Received[] = [];
  const paths: string[] = [];
  const sockets: WebSocket[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    paths.push(url.pathname + url.search);
    const status = script.refuse?.(paths.length - 1);
    if (status !== undefined) return new Response("refused", { status });
    const { socket: ws, response } = Deno.upgradeWebSocket(req);
    const index = sockets.length;
    sockets.push(ws);
    ws.onopen = () => script.onConnect?.(ws, index);
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data as string) as { id?: number; method: string; params?: string[] };
      const msg: Received = {
        socket: index,
        atMs: performance.now(),
        id: m.id ?? null,
        method: m.method,
        params: m.params ?? [],
      };
      received.push(msg);
      (script.onSubscribe ?? ack)(ws, msg);
    };
    return response;
  });
  return {
    baseUrl: `ws://127.0.0.1:${server.addr.port}`,
    received,
    paths,
    sockets,
    async shutdown() {
      for (const ws of sockets) {
        if (ws.readyState === WebSocket.OPEN) ws.close();
      }
      await server.shutdown();
    },
  };
}

/** Polls `predicate` every 5 ms; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
