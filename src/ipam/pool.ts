import type { LabelSelector } from "../api/labelSelector.js";
import type { IPRange } from "../net/ip.js";

/**
 * One address pool as the allocator sees it: already parsed and validated by the config
 * loader (ranges do not overlap within or across pools). This is the seam between
 * `src/api` (which produces it from IPAddressPool objects) and `src/ipam` (which consumes it).
 */
export interface PoolSpec {
  readonly name: string;
  readonly ranges: readonly IPRange[];
  /** false: the pool serves only Services that ask for it or for one of its addresses. */
  readonly autoAssign: boolean;
  /** Skip addresses ending in .0 and .255 (IPv4 only), for clients that mishandle them. */
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation?: ServiceAllocation;
}

export interface ServiceAllocation {
  /** Lower is tried first; pools without a priority come after those with one. */
  readonly priority?: number;
  readonly namespaces?: readonly string[];
  readonly namespaceSelectors?: readonly LabelSelector[];
  readonly serviceSelectors?: readonly LabelSelector[];
}
