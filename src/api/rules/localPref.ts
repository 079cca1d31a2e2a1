import type { PoolSpec } from "../../ipam/pool.js";
import type { Findings } from "../configError.js";
import type { BGPAdvertisementConfig } from "../configTypes.js";
import type { Labels } from "../labelSelector.js";
import { nodeSelectorsMayOverlap, selectPools } from "../selection.js";
import { aggregationLengthFor } from "./aggregation.js";

function peersOverlap(a: readonly string[], b: readonly string[]): boolean {
  return a.length === 0 || b.length === 0 || a.some((p) => b.includes(p));
}

/**
 * Two advertisements that send the same prefix to the same peer from the same node must agree on
 * LOCAL_PREF, or the route's attributes depend on which one the speaker reads last. The same
 * prefix means: a shared pool, a family that pool has, and the same aggregation length for it.
 * Unset counts as 0, as in MetalLB.
 */
export function checkLocalPrefConflicts(
  advertisements: readonly BGPAdvertisementConfig[],
  pools: readonly PoolSpec[],
  poolLabels: ReadonlyMap<string, Labels>,
  findings: Findings,
): void {
  const covered = new Map(advertisements.map((a) => [a, selectPools(a, pools, poolLabels)]));
  advertisements.forEach((later, j) => {
    for (const earlier of advertisements.slice(0, j)) {
      const pref = (a: BGPAdvertisementConfig) => a.localPref ?? 0;
      if (pref(earlier) === pref(later)) continue;
      if (!peersOverlap(earlier.peers, later.peers)) continue;
      if (!nodeSelectorsMayOverlap(earlier.nodeSelectors, later.nodeSelectors)) continue;
      const laterPools = new Set(covered.get(later));
      const shared = (covered.get(earlier) ?? []).find(
        (pool) =>
          laterPools.has(pool) &&
          pool.ranges.some(
            (r) => aggregationLengthFor(earlier, r.family) === aggregationLengthFor(later, r.family),
          ),
      );
      if (shared) {
        findings.error(
          "ConflictingLocalPref",
          "BGPAdvertisement",
          later.name,
          "spec.localPref",
          later.localPref,
          `conflicts with BGPAdvertisement "${earlier.name}" (localPref ${pref(earlier)}): both announce the prefixes of IPAddressPool "${shared.name}" to the same peers from the same nodes`,
        );
        return;
      }
    }
  });
}
