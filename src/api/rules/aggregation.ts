import type { PoolSpec } from "../../ipam/pool.js";
import { FAMILY_BITS, type IPFamily, type IPRange } from "../../net/ip.js";
import type { Findings } from "../configError.js";
import type { BGPAdvertisementConfig } from "../configTypes.js";
import type { Labels } from "../labelSelector.js";
import { selectPools } from "../selection.js";
import type { PoolEntry } from "./pools.js";

/**
 * The shortest prefix length among the CIDR blocks that exactly tile `range` (a CIDR is one
 * block; "192.0.2.240-192.0.2.250" is /29 + /31 + /32, so 29). MetalLB's rule: an aggregation
 * length shorter than this would announce a route covering addresses outside the pool.
 */
export function widestBlockPrefix(range: IPRange): number {
  const bits = FAMILY_BITS[range.family];
  let best = bits;
  let cur = range.first;
  while (cur <= range.last) {
    let k = 0;
    while (k < bits && ((cur >> BigInt(k)) & 1n) === 0n && cur + (1n << BigInt(k + 1)) - 1n <= range.last)
      k++;
    best = Math.min(best, bits - k);
    cur += 1n << BigInt(k);
  }
  return best;
}

export function aggregationLengthFor(adv: BGPAdvertisementConfig, family: IPFamily): number {
  return family === "IPv4" ? adv.aggregationLength : adv.aggregationLengthV6;
}

/** Reports advertisements whose aggregation length is shorter than a covered pool's prefixes. */
export function checkAggregationLengths(
  advertisements: readonly BGPAdvertisementConfig[],
  pools: readonly PoolSpec[],
  poolLabels: ReadonlyMap<string, Labels>,
  entries: ReadonlyMap<string, readonly PoolEntry[]>,
  findings: Findings,
): void {
  for (const adv of advertisements) {
    for (const family of ["IPv4", "IPv6"] as const) {
      const length = aggregationLengthFor(adv, family);
      const field = family === "IPv4" ? "spec.aggregationLength" : "spec.aggregationLengthV6";
      for (const pool of selectPools(adv, pools, poolLabels)) {
        const offending = (entries.get(pool.name) ?? []).find(
          (e) => e.range.family === family && widestBlockPrefix(e.range) > length,
        );
        if (offending) {
          const prefix = widestBlockPrefix(offending.range);
          findings.error(
            "InvalidAggregationLength",
            "BGPAdvertisement",
            adv.name,
            field,
            length,
            `is shorter than the /${prefix} of IPAddressPool "${pool.name}" spec.addresses[${offending.index}] (${offending.text}): the aggregated route would cover addresses outside the pool`,
          );
        }
      }
    }
  }
}
