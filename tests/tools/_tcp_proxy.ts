/**
 * A loopback TCP proxy in front of the simulator, one per replica, so that a fault hits one replica's
 * connections only (the simulator's own switches hit every client): {@link TcpProxy.cut} drops every open
 * connection as a network failure would (no close frame), {@link TcpProxy.refuseFor} closes new connections
 * at once for a while.
 */

/** A TCP proxy on 127.0.0.1 to `targetPort`. */
export class TcpProxy {
  readonly #listener: Deno.TcpListener;
  readonly #open = new Set<Deno.TcpConn>();
  #refuseUntil = 0;
  /** Connections accepted and piped so far. */
  accepted = 0;
  /** Connections refused so far. */
  refused = 0;

  constructor(readonly targetPort: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    void this.#acceptLoop();
  }

  /** The port clients connect to. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Drops every open connection now. */
  cut(): number {
    const n = this.#open.size;
    for (const c of this.#open) closeQuietly(c);
    this.#open.clear();
    return n;
  }

  /** Closes new connections at once for the next `ms`. */
  refuseFor(ms: number): void {
    this.#refuseUntil = Date.now() + ms;
  }

  /** Stops listening and drops every connection. */
  close(): void {
    this.#listener.close();
    this.cut();
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
      } catch {
        return; // closed
      }
      if (Date.now() < this.#refuseUntil) {
        this.refused++;
        closeQuietly(client);
        continue;
      }
      void this.#pipe(client);
    }
  }

  async #pipe(client: Deno.TcpConn): Promise<void> {
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.targetPort });
    } catch {
      closeQuietly(client);
      return;
    }
    this.accepted++;
    this.#open.add(client);
    this.#open.add(upstream);
    const done = () => {
      for (const c of [client, upstream]) {
        this.#open.delete(c);
        closeQuietly(c);
      }
    };
    await Promise.allSettled([
      client.readable.pipeTo(upstream.writable, { preventClose: true }),
      upstream.readable.pipeTo(client.writable, { preventClose: true }),
    ].map((p) => p.finally(done)));
  }
}

function closeQuietly(c: Deno.TcpConn): void {
  try {
    c.close();
  } catch {
    // already closed
  }
}
