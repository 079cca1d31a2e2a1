import { matchesSelector } from "../api/labelSelector.js";
import type { IPFamily } from "../net/ip.js";
import { AddressRange } from "./addressRange.js";
import type { AddressState } from "./holding.js";
import { IntervalSet } from "./intervalSet.js";
import { OrdinalTable } from "./ordinalTable.js";
import type { PoolSpec } from "./pool.js";
import type { ServiceRequest } from "./service.js";

export const FAMILIES: readonly IPFamily[] = ["IPv4", "IPv6"];

/** One range of a pool, as the allocator's address lookup finds it. */
export interface PoolRange {
  readonly pool: PoolState;
  readonly range: AddressRange;
  /** Position among the pool's ranges of the same family (a bigint: it keys an IntervalSet). */
  readonly index: bigint;
  /** The addresses in use, by ordinal. */
  readonly states: OrdinalTable<AddressState>;
}

/** Per-family bookkeeping of a pool. */
class FamilyState {
  readonly ranges: PoolRange[] = [];
  capacity = 0n;
  assigned = 0;
  /** capacity - assigned, kept up to date rather than computed on every read. */
  free = 0n;
  /** Indices of full ranges, so the first range with room is found without a scan. */
  readonly fullRanges = new IntervalSet();
}

/**
 * The live state of one pool: its ranges per family with their used addresses, and the
 * counters behind `poolStats`. Allocation order inside a pool is the ranges' order in the
 * configuration, then ascending address.
 */
export class PoolState {
  readonly name: string;
  readonly spec: PoolSpec;
  private readonly families: Record<IPFamily, FamilyState> = {
    IPv4: new FamilyState(),
    IPv6: new FamilyState(),
  };

  constructor(spec: PoolSpec) {
    this.name = spec.name;
    this.spec = spec;
    for (const r of spec.ranges) {
      const fam = this.families[r.family];
      const range = new AddressRange(r, spec.avoidBuggyIPs);
      const entry: PoolRange = {
        pool: this,
        range,
        index: BigInt(fam.ranges.length),
        states: new OrdinalTable(range.capacity),
      };
      fam.ranges.push(entry);
      fam.capacity += range.capacity;
      fam.free += range.capacity;
      if (range.capacity === 0n) fam.fullRanges.add(entry.index);
    }
  }

  rangesOf(family: IPFamily): readonly PoolRange[] {
    return this.families[family].ranges;
  }

  /** True when the pool has any usable address of the family, free or not. */
  hasFamily(family: IPFamily): boolean {
    return this.families[family].capacity > 0n;
  }

  capacity(family: IPFamily): bigint {
    return this.families[family].capacity;
  }

  assigned(family: IPFamily): number {
    return this.families[family].assigned;
  }

  free(family: IPFamily): bigint {
    return this.families[family].free;
  }

  /** The lowest free address: first range with room (configuration order), lowest address in it. */
  lowestFree(family: IPFamily): { range: PoolRange; address: bigint } | undefined {
    const fam = this.families[family];
    const index = Number(fam.fullRanges.firstAbsentFrom(0n));
    const range = fam.ranges[index];
    if (range === undefined) return undefined;
    const address = range.range.lowestFree();
    return address === undefined ? undefined : { range, address };
  }

  /**
   * Marks an address (by ordinal in its range) used; returns true when the family went from
   * having free addresses to having none (so the caller can update its indexes).
   */
  markUsed(range: PoolRange, ordinal: bigint): boolean {
    if (!range.range.used.add(ordinal)) {
      throw new AllocatorInvariantError(`ordinal ${ordinal} of pool "${this.name}" is already in use`);
    }
    const fam = this.families[range.range.family];
    fam.assigned++;
    fam.free--;
    if (range.range.isFull) fam.fullRanges.add(range.index);
    return fam.free === 0n;
  }

  /** Marks an address free; returns true when the family had no free address before. */
  markFree(range: PoolRange, ordinal: bigint): boolean {
    if (!range.range.used.delete(ordinal)) {
      throw new AllocatorInvariantError(`ordinal ${ordinal} of pool "${this.name}" was not in use`);
    }
    const fam = this.families[range.range.family];
    const wasFull = fam.free === 0n;
    fam.assigned--;
    fam.free++;
    fam.fullRanges.delete(range.index);
    return wasFull;
  }

  /**
   * Whether the pool's serviceAllocation lets it serve the Service: undefined when it does,
   * otherwise which restriction excludes it. Namespaces and namespace selectors together
   * admit a namespace if either does; service selectors must then also match.
   */
  exclusionFor(service: ServiceRequest): "namespace" | "service-labels" | undefined {
    const sa = this.spec.serviceAllocation;
    if (sa === undefined) return undefined;
    const namespaces = sa.namespaces ?? [];
    const nsSelectors = sa.namespaceSelectors ?? [];
    if (namespaces.length > 0 || nsSelectors.length > 0) {
      const admitted =
        namespaces.includes(service.namespace) ||
        nsSelectors.some((s) => matchesSelector(s, service.namespaceLabels));
      if (!admitted) return "namespace";
    }
    const svcSelectors = sa.serviceSelectors ?? [];
    if (svcSelectors.length > 0 && !svcSelectors.some((s) => matchesSelector(s, service.labels))) {
      return "service-labels";
    }
    return undefined;
  }
}

/** A broken internal invariant: a bug in the allocator, never a user error. */
export class AllocatorInvariantError extends Error {
  override readonly name = "AllocatorInvariantError";
  readonly code = "AllocatorInvariant";
}
