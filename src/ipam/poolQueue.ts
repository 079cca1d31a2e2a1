import type { IPFamily } from "../net/ip.js";
import { IntervalSet } from "./intervalSet.js";
import type { PoolState } from "./poolState.js";

/** What a Service needs from one pool: free addresses of one family, or of both at once. */
export type FamilyNeed = IPFamily | "both";

/**
 * An ordered list of pools that answers "the first pool with a free address of family F" (or of
 * both families) in O(log n), however many pools are full: it keeps, per need, the set of
 * positions that cannot satisfy it. The allocator updates it only when a pool's family turns
 * full or gets room again.
 */
export class PoolQueue {
  readonly pools: readonly PoolState[];
  private readonly position = new Map<PoolState, number>();
  private readonly lacking: Record<FamilyNeed, IntervalSet> = {
    IPv4: new IntervalSet(),
    IPv6: new IntervalSet(),
    both: new IntervalSet(),
  };

  constructor(pools: readonly PoolState[]) {
    this.pools = pools;
    pools.forEach((p, i) => {
      this.position.set(p, i);
      this.refresh(p);
    });
  }

  has(pool: PoolState): boolean {
    return this.position.has(pool);
  }

  positionOf(pool: PoolState): number | undefined {
    return this.position.get(pool);
  }

  /** Re-reads a pool's free counters; a no-op for pools not in the queue. */
  refresh(pool: PoolState): void {
    const i = this.position.get(pool);
    if (i === undefined) return;
    const at = BigInt(i);
    const v4 = pool.free("IPv4") > 0n;
    const v6 = pool.free("IPv6") > 0n;
    setMember(this.lacking.IPv4, at, !v4);
    setMember(this.lacking.IPv6, at, !v6);
    setMember(this.lacking.both, at, !(v4 && v6));
  }

  /** The first pool (in queue order) that has free addresses for the need. */
  first(need: FamilyNeed): PoolState | undefined {
    return this.pools[Number(this.lacking[need].firstAbsentFrom(0n))];
  }
}

function setMember(set: IntervalSet, x: bigint, member: boolean): void {
  if (member) set.add(x);
  else set.delete(x);
}
