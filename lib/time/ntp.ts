/**
 * SNTP client over UDP (`node:dgram`, which needs only `--allow-net` in Deno): one request, one reply, a
 * timeout. The packet format and offset math are in ntp_packet.ts.
 * @module
 */

import dgram from "node:dgram";
import { decodeNtpReply, encodeNtpRequest, ntpOffset } from "./ntp_packet.ts";

/** The default server: the NTP pool, port 123. */
export const DEFAULT_NTP_SERVER = "pool.ntp.org:123";

/** No reply arrived in time (packet lost, server down or firewalled). */
export class NtpTimeoutError extends Error {
  constructor(readonly server: string, readonly timeoutMs: number) {
    super(`NTP server ${server} did not answer within ${timeoutMs} ms`);
    this.name = "NtpTimeoutError";
  }
}

/** The server's name did not resolve, or its address cannot be reached (no request was sent). */
export class NtpUnreachableError extends Error {
  constructor(readonly server: string, cause: Error) {
    super(`NTP server ${server} cannot be reached: ${cause.message}`, { cause });
    this.name = "NtpUnreachableError";
  }
}

/** Options of {@linkcode queryNtp}. */
export interface NtpQueryOptions {
  /** `host`, `host:port` or `[ipv6]:port`; the port defaults to 123. @default {"pool.ntp.org:123"} */
  server?: string;
  /** @default {2000} */
  timeoutMs?: number;
  /**
   * The local clock being measured, ms since the epoch. Defaults to the clock behind `lib/clock.ts` (the one
   * that stamps `local_time`), so the offset says how far the recorded arrival times are from true time.
   */
  clockMs?: () => number;
}

/** One NTP measurement. */
export interface NtpMeasurement {
  /** The server as given. */
  server: string;
  stratum: number;
  /** Server clock minus local clock, ms. */
  offsetMs: number;
  /** Round-trip delay, ms. */
  delayMs: number;
  /** Local time (ms) when the reply arrived. */
  timeMs: number;
}

/**
 * Splits `host[:port]` / `[ipv6]:port`; a bare IPv6 address keeps port 123.
 *
 * @example
 * ```ts
 * parseNtpServer("time.google.com"); // { host: "time.google.com", port: 123 }
 * parseNtpServer("[::1]:1123"); // { host: "::1", port: 1123 }
 * ```
 */
export function parseNtpServer(server: string): { host: string; port: number } {
  const colons = server.split(":").length - 1;
  // A bare IPv6 address has several colons and no port.
  if (colons > 1 && !server.startsWith("[")) return { host: server, port: 123 };
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(server) ?? /^([^:\s]+)(?::(\d+))?$/.exec(server);
  const port = match?.[2] === undefined ? 123 : Number(match[2]);
  if (!match || !(port >= 1 && port <= 65535)) {
    throw new RangeError(`Cannot use NTP server '${server}': expected host, host:port or [ipv6]:port`);
  }
  return { host: match[1]!, port };
}

const defaultClockMs = () => performance.timeOrigin + performance.now();

/**
 * Measures the local clock against an NTP server.
 *
 * @example
 * ```ts
 * // Asks a server on the network (UDP 123), so this example defines the call without running it.
 * async function clockOffsetMs(): Promise<number> {
 *   const { offsetMs } = await queryNtp({ server: "pool.ntp.org", timeoutMs: 2000 });
 *   return offsetMs; // server clock minus local clock
 * }
 * ```
 */
export async function queryNtp(options: NtpQueryOptions = {}): Promise<NtpMeasurement> {
  const { server = DEFAULT_NTP_SERVER, timeoutMs = 2000, clockMs = defaultClockMs } = options;
  const { host, port } = parseNtpServer(server);
  const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  return await new Promise<NtpMeasurement>((resolve, reject) => {
    let request: Uint8Array | null = null;
    let t1 = 0;
    const timer = setTimeout(() => finish(new NtpTimeoutError(server, timeoutMs)), timeoutMs);
    const finish = (err: Error | null, result?: NtpMeasurement) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      // A socket that never connected throws on close in some runtimes; nothing is left to release then.
      try {
        socket.close();
      } catch { /* already closed */ }
      if (err) reject(err);
      else resolve(result!);
    };
    socket.on("error", (err) => finish(err));
    socket.on("message", (msg: Uint8Array) => {
      const t4 = clockMs();
      if (request === null) return;
      try {
        const reply = decodeNtpReply(msg, request);
        const { offsetMs, delayMs } = ntpOffset({ t1, t2: reply.receiveMs, t3: reply.transmitMs, t4 });
        finish(null, { server, stratum: reply.stratum, offsetMs, delayMs, timeMs: t4 });
      } catch (err) {
        finish(err as Error);
      }
    });
    // connect() resolves the name and filters replies to those from the server's address.
    socket.connect(port, host, (err?: Error) => {
      // Deno calls back with the lookup's error (getaddrinfo ENOTFOUND …) instead of emitting "error".
      if (err) return finish(new NtpUnreachableError(server, err));
      // An exception escaping this callback would take the whole collector down.
      try {
        t1 = clockMs();
        request = encodeNtpRequest(t1);
        socket.send(request);
      } catch (err) {
        finish(err as Error);
      }
    });
  });
}
