/**
 * One shard's view of a Deno KV store that several shards share (KV Connect, a self-hosted denokv): every key
 * is read and written under `["shard", name]`, so the shards' checkpoints, coverage, files and cloud-sync
 * state never meet. Covers the calls the ledger and cloud sync make (get, getMany, set, delete, list, atomic
 * with check/set/delete/sum/min/max/enqueue, enqueue, listenQueue, close).
 *
 * The queue is the store's one queue: a message carries its shard, and a listener hands a message of another
 * shard back to the queue (a second later) for that shard's listener.
 * @module
 */

/** The key prefix of a shard's entries. */
export function shardPrefix(name: string): Deno.KvKey {
  return ["shard", name];
}

interface ScopedMessage {
  shard: string;
  value: unknown;
}

function isScoped(v: unknown): v is ScopedMessage {
  return typeof v === "object" && v !== null && typeof (v as ScopedMessage).shard === "string" &&
    "value" in v;
}

type EnqueueOptions = { delay?: number; keysIfUndelivered?: Deno.KvKey[]; backoffSchedule?: number[] };

/** An atomic operation whose keys are under the shard's prefix. */
class ScopedAtomic {
  constructor(private readonly op: Deno.AtomicOperation, private readonly kv: ScopedKv) {}

  check(...checks: Deno.AtomicCheck[]): this {
    this.op.check(...checks.map((c) => ({ key: this.kv.inner(c.key), versionstamp: c.versionstamp })));
    return this;
  }
  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }): this {
    this.op.set(this.kv.inner(key), value, options);
    return this;
  }
  delete(key: Deno.KvKey): this {
    this.op.delete(this.kv.inner(key));
    return this;
  }
  sum(key: Deno.KvKey, n: bigint): this {
    this.op.sum(this.kv.inner(key), n);
    return this;
  }
  min(key: Deno.KvKey, n: bigint): this {
    this.op.min(this.kv.inner(key), n);
    return this;
  }
  max(key: Deno.KvKey, n: bigint): this {
    this.op.max(this.kv.inner(key), n);
    return this;
  }
  enqueue(value: unknown, options?: EnqueueOptions): this {
    this.op.enqueue(this.kv.message(value), this.kv.enqueueOptions(options));
    return this;
  }
  commit(): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    return this.op.commit();
  }
}

/** A shard's view of a shared store; use it where a `Deno.Kv` is expected (see {@linkcode scopedKv}). */
class ScopedKv {
  constructor(readonly shared: Deno.Kv, readonly name: string) {}

  inner(key: Deno.KvKey): Deno.KvKey {
    return ["shard", this.name, ...key];
  }
  outer<T>(entry: Deno.KvEntryMaybe<T>): Deno.KvEntryMaybe<T> {
    return { ...entry, key: entry.key.slice(2) } as Deno.KvEntryMaybe<T>;
  }
  message(value: unknown): ScopedMessage {
    return { shard: this.name, value };
  }
  enqueueOptions(options?: EnqueueOptions): EnqueueOptions | undefined {
    if (options?.keysIfUndelivered === undefined) return options;
    return { ...options, keysIfUndelivered: options.keysIfUndelivered.map((k) => this.inner(k)) };
  }

  async get<T>(key: Deno.KvKey, options?: { consistency?: Deno.KvConsistencyLevel }) {
    return this.outer(await this.shared.get<T>(this.inner(key), options));
  }
  async getMany<T extends readonly unknown[]>(
    keys: readonly Deno.KvKey[],
    options?: { consistency?: Deno.KvConsistencyLevel },
  ) {
    const entries = await this.shared.getMany<unknown[]>(keys.map((k) => this.inner(k)), options);
    return entries.map((e) => this.outer(e)) as { [K in keyof T]: Deno.KvEntryMaybe<T[K]> };
  }
  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }) {
    return this.shared.set(this.inner(key), value, options);
  }
  delete(key: Deno.KvKey) {
    return this.shared.delete(this.inner(key));
  }
  async *list<T>(selector: Deno.KvListSelector, options?: Deno.KvListOptions) {
    const s = selector as { prefix?: Deno.KvKey; start?: Deno.KvKey; end?: Deno.KvKey };
    const scoped = {
      ...(s.prefix !== undefined ? { prefix: this.inner(s.prefix) } : {}),
      ...(s.start !== undefined ? { start: this.inner(s.start) } : {}),
      ...(s.end !== undefined ? { end: this.inner(s.end) } : {}),
    } as Deno.KvListSelector;
    // A bare range needs the prefix too, or it would run past the shard's keys.
    const bounded = s.prefix === undefined && (s.start === undefined || s.end === undefined)
      ? { prefix: shardPrefix(this.name), ...scoped } as Deno.KvListSelector
      : scoped;
    for await (const entry of this.shared.list<T>(bounded, options)) {
      yield this.outer(entry) as Deno.KvEntry<T>;
    }
  }
  atomic(): ScopedAtomic {
    return new ScopedAtomic(this.shared.atomic(), this);
  }
  enqueue(value: unknown, options?: EnqueueOptions) {
    return this.shared.enqueue(this.message(value), this.enqueueOptions(options));
  }
  listenQueue(handler: (value: unknown) => Promise<void> | void): Promise<void> {
    return this.shared.listenQueue(async (msg: unknown) => {
      if (isScoped(msg) && msg.shard === this.name) return await handler(msg.value);
      // Another shard's job (or one from before sharding, which no shard owns: dropped).
      if (isScoped(msg)) await this.shared.enqueue(msg, { delay: 1000 });
    });
  }
  close(): void {
    this.shared.close();
  }
}

/**
 * `kv` seen by shard `name`: the same calls, every key under `["shard", name]`.
 *
 * @example
 * ```ts
 * const kv = await Deno.openKv(":memory:");
 * const s1 = scopedKv(kv, "s1");
 * await s1.set(["ckpt", "journal"], 1);
 * (await kv.get(["shard", "s1", "ckpt", "journal"])).value; // 1
 * (await s1.get(["ckpt", "journal"])).key; // ["ckpt", "journal"]
 * kv.close();
 * ```
 */
export function scopedKv(kv: Deno.Kv, name: string): Deno.Kv {
  // The ledger and cloud sync use only the calls ScopedKv implements.
  return new ScopedKv(kv, name) as unknown as Deno.Kv;
}

/**
 * The whole store behind a shard's view (the view itself when it is not one): for what the shards share, such
 * as a lease only one of them may hold.
 *
 * @example
 * ```ts
 * const kv = await Deno.openKv(":memory:");
 * sharedKv(scopedKv(kv, "s1")) === kv; // true
 * sharedKv(kv) === kv; // true
 * kv.close();
 * ```
 */
export function sharedKv(kv: Deno.Kv): Deno.Kv {
  return kv instanceof ScopedKv ? kv.shared : kv;
}
