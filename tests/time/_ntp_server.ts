/**
 * A test NTP server on 127.0.0.1 (node:dgram) whose clock runs `skewMs` ahead of the local clock. It builds its
 * replies byte by byte (not with lib/time/ntp_packet.ts), so the client is checked against an independent
 * encoder.
 */
import dgram from "node:dgram";

const NTP_UNIX_OFFSET_S = 2_208_988_800;

function putTimestamp(view: DataView, offset: number, ms: number): void {
  const seconds = Math.floor(ms / 1000);
  view.setUint32(offset, seconds + NTP_UNIX_OFFSET_S);
  view.setUint32(offset + 4, Math.floor(((ms - seconds * 1000) / 1000) * 2 ** 32));
}

/** Options of the test server. */
export interface NtpServerOptions {
  /** Server clock minus local clock, ms. */
  skewMs?: number;
  /** Time the server holds a request before answering, ms: shows in T3 − T2, not in the delay. */
  processingMs?: number;
  /** Stratum to answer with; 0 sends a kiss-o'-death "RATE". */
  stratum?: number;
  /** Copy the request's transmit timestamp into the origin field (false: a stray reply). */
  echoOrigin?: boolean;
}

/** A running test server. */
export interface TestNtpServer {
  port: number;
  /** Requests received. */
  requests: number;
  close(): Promise<void>;
}

/** Starts the server on an ephemeral port of 127.0.0.1. */
export async function startNtpServer(options: NtpServerOptions = {}): Promise<TestNtpServer> {
  const { skewMs = 0, processingMs = 0, stratum = 2, echoOrigin = true } = options;
  const socket = dgram.createSocket("udp4");
  const server: TestNtpServer = {
    port: 0,
    requests: 0,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  const serverNow = () => performance.timeOrigin + performance.now() + skewMs;
  socket.on("message", async (msg: Uint8Array, remote) => {
    const receivedMs = serverNow();
    server.requests++;
    if (processingMs > 0) await new Promise((resolve) => setTimeout(resolve, processingMs));
    const reply = new Uint8Array(48);
    const view = new DataView(reply.buffer);
    reply[0] = (4 << 3) | 4; // LI 0, version 4, mode 4 (server)
    reply[1] = stratum;
    if (stratum === 0) reply.set(new TextEncoder().encode("RATE"), 12);
    if (echoOrigin) reply.set(msg.subarray(40, 48), 24);
    putTimestamp(view, 32, receivedMs);
    putTimestamp(view, 40, serverNow());
    socket.send(reply, remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  server.port = (socket.address() as { port: number }).port;
  return server;
}

/** A UDP socket on 127.0.0.1 that receives and never answers. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const socket = dgram.createSocket("udp4");
  socket.on("message", () => {});
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  return {
    port: (socket.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
