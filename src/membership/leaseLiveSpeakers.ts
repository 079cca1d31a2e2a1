/**
 * Live speakers from their Leases: a node is live while its Lease is fresh. Freshness is measured
 * on this process's monotonic clock from the moment a renewal was *observed* (as client-go's
 * leader election does), so clock skew between nodes does not matter; only the first sight of a
 * Lease uses its wall-clock renewTime, to tell a long-dead speaker from a live one at start-up.
 *
 * Expiry pauses while `canExpire()` is false: when this speaker cannot reach the API server it
 * sees no renewals from anyone, and declaring every other node dead would make it announce
 * everything. The set then stays as it was until the API server is back.
 *
 * Deleting a Lease (a speaker stopping cleanly) removes the node at once.
 */
import { systemClock, type Clock, type TimerHandle } from "../runtime/clock.js";
import { sameNodeSet, type LiveSpeakers } from "../speaker/liveSpeakers.js";
import type { SpeakerLease } from "./lease.js";

interface Tracked {
  readonly node: string;
  readonly renewTime: string;
  expiresAt: number;
}

export interface LeaseLiveSpeakersOptions {
  readonly clock?: Clock;
  /** Wall clock in ms since the epoch (for the first sight of a Lease). */
  readonly wallNow?: () => number;
  /** False while expiry must pause (this speaker cannot renew its own Lease). */
  readonly canExpire?: () => boolean;
  /** How often to look again while expiry is paused; default 1 s. */
  readonly pausedRecheckMs?: number;
}

const renewTimeText = (value: string | Date | undefined): string =>
  value === undefined ? "" : typeof value === "string" ? value : value.toISOString();

export class LeaseLiveSpeakers implements LiveSpeakers {
  /** By Lease key "namespace/name". */
  private readonly leases = new Map<string, Tracked>();
  private live: ReadonlySet<string> = new Set();
  private readonly listeners = new Set<(live: ReadonlySet<string>) => void>();
  private timer: TimerHandle | undefined;
  private readonly clock: Clock;
  private readonly wallNow: () => number;
  private readonly canExpire: () => boolean;
  private stopped = false;

  constructor(private readonly options: LeaseLiveSpeakersOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.wallNow = options.wallNow ?? Date.now;
    this.canExpire = options.canExpire ?? (() => true);
  }

  current(): ReadonlySet<string> {
    return this.live;
  }

  onChange(callback: (live: ReadonlySet<string>) => void): () => void {
    this.listeners.add(callback);
    return () => this.listeners.delete(callback);
  }

  /** A Lease was added or updated (informer onAdd/onUpdate). */
  observe(lease: SpeakerLease): void {
    const key = leaseKey(lease);
    const node = lease.spec?.holderIdentity ?? "";
    const renewTime = renewTimeText(lease.spec?.renewTime);
    const durationMs = Math.max(0, (lease.spec?.leaseDurationSeconds ?? 0) * 1000);
    const previous = this.leases.get(key);
    if (node === "" || renewTime === "") {
      // A released Lease (no holder) or one never renewed names no live speaker.
      this.leases.delete(key);
    } else if (previous !== undefined && previous.node === node && previous.renewTime === renewTime) {
      return; // a resync or a metadata change: no new renewal
    } else {
      const now = this.clock.now();
      let expiresAt = now + durationMs;
      if (previous === undefined) {
        const renewedAt = Date.parse(renewTime);
        const age = Number.isNaN(renewedAt) ? 0 : Math.max(0, this.wallNow() - renewedAt);
        expiresAt = now + durationMs - age;
      }
      this.leases.set(key, { node, renewTime, expiresAt });
    }
    this.recompute();
  }

  /** A Lease was deleted (informer onDelete). */
  forget(lease: SpeakerLease): void {
    if (this.leases.delete(leaseKey(lease))) this.recompute();
  }

  /** Look again now (e.g. when expiry may resume after the API server came back). */
  recheck(): void {
    this.recompute();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private recompute(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const expiring = this.canExpire();
    const next = new Set<string>();
    let nextExpiry: number | undefined;
    for (const tracked of this.leases.values()) {
      if (tracked.expiresAt > now) {
        next.add(tracked.node);
        if (nextExpiry === undefined || tracked.expiresAt < nextExpiry) nextExpiry = tracked.expiresAt;
      } else if (!expiring && this.live.has(tracked.node)) {
        next.add(tracked.node); // paused: keep who was live
      }
    }
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const paused = !expiring && [...this.leases.values()].some((t) => t.expiresAt <= now && next.has(t.node));
    const wakeAt = paused ? now + (this.options.pausedRecheckMs ?? 1000) : nextExpiry;
    if (wakeAt !== undefined) {
      this.timer = this.clock.setTimeout(
        () => {
          this.timer = undefined;
          this.recompute();
        },
        Math.max(0, wakeAt - now),
      );
    }
    if (sameNodeSet(next, this.live)) return;
    this.live = next;
    for (const listener of [...this.listeners]) {
      try {
        listener(next);
      } catch {
        // a listener's failure is its own; others still hear about the change
      }
    }
  }
}

function leaseKey(lease: SpeakerLease): string {
  return `${lease.metadata?.namespace ?? ""}/${lease.metadata?.name ?? ""}`;
}
