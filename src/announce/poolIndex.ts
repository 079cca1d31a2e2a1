/**
 * Which configured pool an announced address belongs to. The Service's
 * `ip-allocated-from-pool` annotation says so directly; when it is missing (a Service migrated
 * from MetalLB, a controller that has not written it yet) or names a pool that no longer holds the
 * address, the pool whose ranges contain the address decides (validation keeps pools disjoint,
 * so there is at most one).
 */
import type { IronLBConfig } from "../api/configTypes.js";
import type { PoolSpec } from "../ipam/pool.js";
import { rangeContains, type IPAddr, type IPFamily, type IPRange } from "../net/ip.js";

interface IndexedRange {
  readonly range: IPRange;
  readonly pool: PoolSpec;
}

export class PoolIndex {
  private readonly byFamily: ReadonlyMap<IPFamily, readonly IndexedRange[]>;

  constructor(private readonly config: Pick<IronLBConfig, "pools" | "poolsByName">) {
    const byFamily = new Map<IPFamily, IndexedRange[]>([
      ["IPv4", []],
      ["IPv6", []],
    ]);
    for (const pool of config.pools) {
      for (const range of pool.ranges) byFamily.get(range.family)?.push({ range, pool });
    }
    for (const list of byFamily.values()) {
      list.sort((x, y) => (x.range.first < y.range.first ? -1 : x.range.first > y.range.first ? 1 : 0));
    }
    this.byFamily = byFamily;
  }

  /** The pool holding `ip`: the annotated pool when it does, else the one whose ranges contain it. */
  poolOf(ip: IPAddr, annotatedPool?: string): PoolSpec | undefined {
    if (annotatedPool !== undefined) {
      const named = this.config.poolsByName.get(annotatedPool);
      if (named?.ranges.some((r) => rangeContains(r, ip))) return named;
    }
    return this.containing(ip);
  }

  private containing(ip: IPAddr): PoolSpec | undefined {
    const list = this.byFamily.get(ip.family) ?? [];
    // The last range starting at or before ip is the only one that can contain it.
    let lo = 0;
    let hi = list.length - 1;
    let candidate: IndexedRange | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const entry = list[mid];
      if (entry === undefined) break;
      if (entry.range.first <= ip.value) {
        candidate = entry;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return candidate !== undefined && ip.value <= candidate.range.last ? candidate.pool : undefined;
  }
}

const cache = new WeakMap<object, PoolIndex>();

/** One index per configuration object (configurations are immutable values). */
export function poolIndexFor(config: Pick<IronLBConfig, "pools" | "poolsByName">): PoolIndex {
  let index = cache.get(config);
  if (index === undefined) {
    index = new PoolIndex(config);
    cache.set(config, index);
  }
  return index;
}
