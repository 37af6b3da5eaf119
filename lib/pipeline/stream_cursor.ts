/**
 * Which connection's frames are admitted for one stream, so that two connections carrying the same stream (a
 * replacement opened before the 24 h cut, or a reconnect) neither duplicate nor lose a message.
 *
 * Every stream has an ordering key that all connections share (update id, agg trade id, event time), and each
 * connection delivers its frames in key order from the moment it subscribed. The owner's frames are admitted.
 * Another connection *joins* the sequence when one of its frames is a duplicate of an admitted one, directly
 * continues the last admitted one, or when the admitted key has reached the first key it delivered: from then on
 * its stream holds everything after the admitted key. Until it joins, its frames are held back (the owner may
 * still bring older ones); on joining the held frames newer than the admitted key are released in order. After
 * that a frame with a key above the last admitted one is new and any other is a duplicate, whichever connection
 * brings it first.
 *
 * Pure: no I/O, no clock; items are opaque to it.
 */

/** What to do with a frame. */
export const enum Admit {
  /** New: write it (on contiguous streams it directly follows the last key). */
  Accept = 0,
  /** New, but on a contiguous stream the keys between the last admitted one and this one never arrived. */
  Hole = 1,
  /** Already admitted from another connection, or older: drop. */
  Duplicate = 2,
  /** Held back: its connection has not joined the sequence yet. */
  Held = 3,
}

/** A frame released from a connection's hold queue when it joined, with its verdict. */
export interface Released<T> {
  item: T;
  localUs: number;
  admit: Admit;
  /** The admitted key and its local time just before this frame (bounds of a hole). */
  prevKey: number;
  prevLocalUs: number;
}

interface Held<T> {
  key: number;
  localUs: number;
  item: T;
}

interface ConnState<T> {
  id: number;
  joined: boolean;
  held: Held<T>[];
  /** Local time (µs) from which the connection is known to carry the stream (its subscription). */
  sinceUs: number;
}

const NONE = -1;

/** Admission state of one stream. */
export class StreamCursor<T> {
  /** Connection whose frames are authoritative; -1 when none (start, or after it closed). */
  owner = NONE;
  /** Highest admitted key; NaN until the first frame. */
  lastKey = NaN;
  /** Local time (µs) of the last admitted frame. */
  lastLocalUs = NaN;
  /** The admitted key and local time before the last admitted frame (bounds of a hole it reported). */
  prevKey = NaN;
  prevLocalUs = NaN;
  private readonly conns: ConnState<T>[] = [];
  private readonly released: Released<T>[] = [];

  /**
   * @param contiguous keys are consecutive integers (agg trade ids), so a jump is a detectable hole
   * @param maxHeld frames held per connection before the oldest are dropped (the join point moves later)
   */
  constructor(readonly contiguous: boolean, private readonly maxHeld = 4096) {}

  /**
   * Registers a connection that carries this stream from `sinceUs` on; it becomes the owner if there is none.
   */
  attach(conn: number, sinceUs = NaN): void {
    const known = this.find(conn);
    if (known) {
      if (Number.isNaN(known.sinceUs)) known.sinceUs = sinceUs;
      return;
    }
    const st: ConnState<T> = { id: conn, joined: false, held: [], sinceUs };
    this.conns.push(st);
    if (this.owner === NONE) this.promote(st);
  }

  /**
   * Forgets a closed connection. Returns true when the stream stays covered (it was not the owner, or a
   * connection that has joined, or can join now, took over), false when data may be missing from here on.
   * Frames released by a takeover are available from {@link drain}.
   */
  detach(conn: number): boolean {
    const i = this.conns.findIndex((c) => c.id === conn);
    if (i < 0) return this.owner !== NONE;
    this.conns.splice(i, 1);
    if (this.owner !== conn) return true;
    this.owner = NONE;
    const joined = this.conns.find((c) => this.canTakeOver(c));
    if (joined) {
      this.join(joined);
      this.promote(joined);
      return true;
    }
    const next = this.conns[0];
    if (next) {
      this.join(next);
      this.promote(next);
    }
    return false;
  }

  /** True when `conn` is the owner or has joined the sequence. */
  joined(conn: number): boolean {
    return this.find(conn)?.joined ?? false;
  }

  /** True when every attached connection has joined. */
  allJoined(): boolean {
    return this.conns.every((c) => c.joined);
  }

  /**
   * True when `conn` could take over from the owner now without losing a frame: it joined; or the owner has
   * reached the first frame it holds; or the stream has been quiet since `conn` subscribed (the owner admitted
   * nothing since, and `conn` holds nothing), so everything that comes next will arrive on `conn`.
   */
  ready(conn: number): boolean {
    const st = this.find(conn);
    return st !== undefined && this.canTakeOver(st);
  }

  private canTakeOver(c: ConnState<T>): boolean {
    if (c.joined) return true;
    if (c.held.length > 0) return c.held[0]!.key <= this.lastKey;
    return !(this.lastLocalUs >= c.sinceUs) && !Number.isNaN(c.sinceUs);
  }

  /**
   * Decides on a frame with ordering key `key` from `conn`. `continues` says the frame directly follows the
   * last admitted one (for depth diffs the sequence rule decides it). Frames released by this call (held
   * earlier, older than this one) must be taken from {@link drain} and handled *before* this frame.
   */
  admit(
    conn: number,
    key: number,
    localUs: number,
    item: T,
    continues = this.contiguous && key === this.lastKey + 1,
  ): Admit {
    let st = this.find(conn);
    if (!st) {
      this.attach(conn, localUs);
      st = this.conns[this.conns.length - 1]!;
    }
    if (!st.joined) {
      const caughtUp = st.held.length > 0 && st.held[0]!.key <= this.lastKey;
      if (key <= this.lastKey || continues || caughtUp) {
        this.join(st);
      } else {
        if (st.held.length >= this.maxHeld) st.held.shift();
        st.held.push({ key, localUs, item });
        return Admit.Held;
      }
    }
    return this.decide(key, localUs);
  }

  /** Frames released by the last {@link admit} or {@link detach}, in order; the list is emptied. */
  drain(): readonly Released<T>[] {
    if (this.released.length === 0) return EMPTY;
    return this.released.splice(0, this.released.length);
  }

  /**
   * Starts the sequence over at `key` (a depth book re-synced from a snapshot): every connection but the owner
   * must join again.
   */
  restart(key: number): void {
    this.lastKey = key;
    for (const c of this.conns) {
      if (c.id !== this.owner) {
        c.joined = false;
        c.held.length = 0;
      }
    }
  }

  /**
   * Restores a saved position (crash recovery): the connections that carried the stream, its owner, and the last
   * admitted key. Other connections must join again.
   */
  restore(
    conns: readonly { id: number; sinceUs: number }[],
    owner: number,
    lastKey: number,
    lastLocalUs: number,
  ) {
    this.conns.length = 0;
    this.owner = NONE;
    for (const c of conns) {
      this.conns.push({ id: c.id, joined: c.id === owner, held: [], sinceUs: c.sinceUs });
    }
    if (this.conns.some((c) => c.id === owner)) this.owner = owner;
    this.lastKey = lastKey;
    this.lastLocalUs = lastLocalUs;
  }

  /** Forgets every connection without a takeover (the process is going away or came back from a crash). */
  detachAll(): void {
    this.conns.length = 0;
    this.released.length = 0;
    this.owner = NONE;
  }

  /** The attached connections and since when they carry the stream (for checkpoints). */
  attached(): { id: number; sinceUs: number }[] {
    return this.conns.map((c) => ({ id: c.id, sinceUs: c.sinceUs }));
  }

  private decide(key: number, localUs: number): Admit {
    if (key <= this.lastKey) return Admit.Duplicate;
    const hole = this.contiguous && !Number.isNaN(this.lastKey) && key !== this.lastKey + 1;
    this.prevKey = this.lastKey;
    this.prevLocalUs = this.lastLocalUs;
    this.lastKey = key;
    this.lastLocalUs = localUs;
    return hole ? Admit.Hole : Admit.Accept;
  }

  /** Marks a connection joined and releases its held frames that are newer than the admitted key. */
  private join(st: ConnState<T>): void {
    st.joined = true;
    for (const h of st.held) {
      const admit = this.decide(h.key, h.localUs);
      if (admit !== Admit.Duplicate) {
        this.released.push({
          item: h.item,
          localUs: h.localUs,
          admit,
          prevKey: this.prevKey,
          prevLocalUs: this.prevLocalUs,
        });
      }
    }
    st.held.length = 0;
  }

  private promote(st: ConnState<T>): void {
    this.owner = st.id;
    st.joined = true;
  }

  private find(conn: number): ConnState<T> | undefined {
    for (const c of this.conns) if (c.id === conn) return c;
    return undefined;
  }
}

const EMPTY: readonly never[] = Object.freeze([]);
