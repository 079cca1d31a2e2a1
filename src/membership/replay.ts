/**
 * Replay protection for sealed packets. Every packet carries a stamp: microseconds since the
 * epoch, strictly increasing per sender (also across restarts, as long as the sender's clock
 * does not step back). A receiver accepts a stamp once, within `maxSkewMs` of its own wall clock,
 * and tolerates reordering within `reorderMs` behind the newest stamp it saw from that sender.
 *
 * Per sender: every stamp at or below `floor` is refused; stamps above it that were accepted
 * are remembered (at most `maxRemembered`; past that the floor rises to the oldest one).
 */

export interface ReplayOptions {
  /**
   * Largest accepted distance between a packet's stamp and our clock; default 5 min (nodes'
   * clocks must agree that well: beyond it their packets are dropped as "stale"). The window
   * per sender stops replays; this bound only limits what could be replayed to a receiver that
   * restarted and forgot its windows.
   */
  readonly maxSkewMs?: number;
  /** How far behind a sender's newest stamp an older, unseen stamp is still accepted; default 2 s. */
  readonly reorderMs?: number;
  /** Stamps remembered per sender; default 512. */
  readonly maxRemembered?: number;
  /** Senders tracked at once (least recently heard forgotten first); default 4096. */
  readonly maxSenders?: number;
}

export type ReplayVerdict = "ok" | "replay" | "stale";

interface SenderWindow {
  floor: bigint;
  newest: bigint;
  readonly seen: Set<bigint>;
}

export class ReplayGuard {
  private readonly senders = new Map<string, SenderWindow>();
  private readonly maxSkewMicros: bigint;
  private readonly reorderMicros: bigint;
  private readonly maxRemembered: number;
  private readonly maxSenders: number;

  constructor(options: ReplayOptions = {}) {
    this.maxSkewMicros = BigInt(Math.round((options.maxSkewMs ?? 300_000) * 1000));
    this.reorderMicros = BigInt(Math.round((options.reorderMs ?? 2000) * 1000));
    this.maxRemembered = options.maxRemembered ?? 512;
    this.maxSenders = options.maxSenders ?? 4096;
  }

  /** Checks and, when "ok", records `stamp` from `sender`; `nowMicros` is our wall clock. */
  check(sender: string, stamp: bigint, nowMicros: bigint): ReplayVerdict {
    const distance = stamp > nowMicros ? stamp - nowMicros : nowMicros - stamp;
    if (distance > this.maxSkewMicros) return "stale";
    let window = this.senders.get(sender);
    if (window === undefined) {
      window = { floor: 0n, newest: 0n, seen: new Set() };
    } else {
      this.senders.delete(sender); // re-inserted below: the map stays in least-recently-heard order
    }
    this.senders.set(sender, window);
    while (this.senders.size > this.maxSenders) {
      const oldest = this.senders.keys().next().value;
      if (oldest === undefined) break;
      this.senders.delete(oldest);
    }
    if (stamp <= window.floor || window.seen.has(stamp)) return "replay";
    window.seen.add(stamp);
    if (stamp > window.newest) window.newest = stamp;
    this.raiseFloor(window, window.newest - this.reorderMicros);
    while (window.seen.size > this.maxRemembered) {
      let oldest = window.newest;
      for (const seen of window.seen) if (seen < oldest) oldest = seen;
      this.raiseFloor(window, oldest);
    }
    return "ok";
  }

  /** Senders tracked now. */
  get size(): number {
    return this.senders.size;
  }

  private raiseFloor(window: SenderWindow, floor: bigint): void {
    if (floor <= window.floor) return;
    window.floor = floor;
    for (const seen of window.seen) if (seen <= floor) window.seen.delete(seen);
  }
}
