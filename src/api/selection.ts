import type { PoolSpec } from "../ipam/pool.js";
import type { IronLBConfig, PoolReference } from "./configTypes.js";
import { matchesSelector, type LabelSelector, type Labels } from "./labelSelector.js";

/**
 * The pools an advertisement covers, in config order: the pools it names plus the pools whose
 * labels match one of its selectors; with neither, every pool (MetalLB's rule).
 */
export function selectPools(
  ref: PoolReference,
  pools: readonly PoolSpec[],
  poolLabels: ReadonlyMap<string, Labels>,
): PoolSpec[] {
  if (ref.ipAddressPools.length === 0 && ref.ipAddressPoolSelectors.length === 0) return [...pools];
  const named = new Set(ref.ipAddressPools);
  return pools.filter(
    (pool) =>
      named.has(pool.name) ||
      ref.ipAddressPoolSelectors.some((s) => matchesSelector(s, poolLabels.get(pool.name) ?? {})),
  );
}

export function poolsOf(ref: PoolReference, config: Pick<IronLBConfig, "pools" | "poolLabels">): PoolSpec[] {
  return selectPools(ref, config.pools, config.poolLabels);
}

/**
 * False only when no node can match both selector lists: every pair of selectors demands
 * different values for one label. Otherwise the lists may overlap (node labels are not known here).
 */
export function nodeSelectorsMayOverlap(a: readonly LabelSelector[], b: readonly LabelSelector[]): boolean {
  if (a.length === 0 || b.length === 0) return true;
  return a.some((sa) => b.some((sb) => !selectorsContradict(sa, sb)));
}

function selectorsContradict(a: LabelSelector, b: LabelSelector): boolean {
  const la = a.matchLabels ?? {};
  const lb = b.matchLabels ?? {};
  return Object.entries(la).some(([key, value]) => key in lb && lb[key] !== value);
}
