/**
 * Updates waiting to be gossiped. Each rides on outgoing packets until it has been sent
 * `limit` times (λ·log n); the least-sent go first, newest first among equals, so fresh news
 * overtakes old news. A newer update about a member replaces what was queued about it, except
 * that suspicions of the same incarnation from different members are all kept: each one is an
 * independent confirmation the others count.
 */
import type { Update } from "./messages.js";

interface Queued {
  readonly update: Update;
  transmits: number;
  readonly order: number;
}

export class BroadcastQueue {
  private readonly queued = new Map<string, Queued>();
  private nextOrder = 0;

  get size(): number {
    return this.queued.size;
  }

  /** Queues `update`, replacing older news about the same member. */
  add(update: Update): void {
    for (const [slot, entry] of this.queued) {
      if (entry.update.name !== update.name) continue;
      const bothSuspicions =
        entry.update.kind === "suspect" &&
        update.kind === "suspect" &&
        entry.update.incarnation === update.incarnation;
      if (!bothSuspicions) this.queued.delete(slot);
    }
    this.queued.set(slotOf(update), { update, transmits: 0, order: this.nextOrder++ });
  }

  /**
   * Picks updates for one packet: as many as fit in `budget` bytes (by `sizeOf`), counting a
   * transmission for each and dropping those sent `limit` times.
   */
  take(budget: number, limit: number, sizeOf: (update: Update) => number): Update[] {
    if (this.queued.size === 0 || budget <= 0) return [];
    const entries = [...this.queued.entries()].sort(
      ([, a], [, b]) => a.transmits - b.transmits || b.order - a.order,
    );
    const picked: Update[] = [];
    let room = budget;
    for (const [slot, entry] of entries) {
      const size = sizeOf(entry.update);
      if (size > room) continue;
      room -= size;
      picked.push(entry.update);
      entry.transmits++;
      if (entry.transmits >= limit) this.queued.delete(slot);
    }
    return picked;
  }

  /** Queued updates (for tests and debugging). */
  pending(): Update[] {
    return [...this.queued.values()].map((entry) => entry.update);
  }

  clear(): void {
    this.queued.clear();
  }
}

function slotOf(update: Update): string {
  return update.kind === "suspect" ? `${update.name}\u0000${update.from}` : update.name;
}
