import type { PoolSpec, ServiceAllocation } from "../../ipam/pool.js";
import { IPParseError, parseAddressRange, type IPRange } from "../../net/ip.js";
import type { Findings } from "../configError.js";
import type { Labels } from "../labelSelector.js";
import type { CheckedObject } from "../objects.js";
import { POOL_DEFAULTS, type IPAddressPoolSpec } from "../schema/ipAddressPool.js";
import { checkSelectors } from "./common.js";

const KIND = "IPAddressPool";
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** One parsed entry of spec.addresses, kept for messages that quote what the user wrote. */
export interface PoolEntry {
  readonly pool: string;
  readonly index: number;
  readonly text: string;
  readonly range: IPRange;
}

export interface BuiltPools {
  readonly pools: PoolSpec[];
  readonly labels: Map<string, Labels>;
  readonly entries: Map<string, PoolEntry[]>;
}

function buildServiceAllocation(
  obj: CheckedObject<IPAddressPoolSpec>,
  findings: Findings,
): ServiceAllocation | undefined {
  const sa = obj.spec.serviceAllocation;
  if (sa === undefined) return undefined;
  const base = "spec.serviceAllocation";
  (sa.namespaces ?? []).forEach((ns, i) => {
    if (!DNS_LABEL.test(ns)) {
      findings.error(
        "InvalidValue",
        KIND,
        obj.name,
        `${base}.namespaces[${i}]`,
        ns,
        "is not a valid namespace name",
      );
    }
  });
  checkSelectors(sa.namespaceSelectors, `${base}.namespaceSelectors`, KIND, obj.name, findings);
  checkSelectors(sa.serviceSelectors, `${base}.serviceSelectors`, KIND, obj.name, findings);
  // MetalLB's API cannot tell priority 0 from unset, and documents unset as "after the others".
  const allocation: { -readonly [K in keyof ServiceAllocation]: ServiceAllocation[K] } = {};
  if (sa.priority !== undefined && sa.priority > 0) allocation.priority = sa.priority;
  if (sa.namespaces && sa.namespaces.length > 0) allocation.namespaces = sa.namespaces;
  if (sa.namespaceSelectors && sa.namespaceSelectors.length > 0) {
    allocation.namespaceSelectors = sa.namespaceSelectors;
  }
  if (sa.serviceSelectors && sa.serviceSelectors.length > 0)
    allocation.serviceSelectors = sa.serviceSelectors;
  return allocation;
}

function describeEntry(entry: PoolEntry, from: string): string {
  const where = entry.pool === from ? "" : `${KIND} "${entry.pool}" `;
  return `${where}spec.addresses[${entry.index}] (${entry.text})`;
}

function comesFirst(a: PoolEntry, b: PoolEntry): boolean {
  return a.pool < b.pool || (a.pool === b.pool && a.index < b.index);
}

/**
 * Reports entries that overlap an entry of the same or another pool, in one sorted sweep
 * (O(n log n)). The error goes to the entry that sorts later by (pool name, index), so the
 * report does not depend on input order.
 */
function checkOverlaps(all: readonly PoolEntry[], findings: Findings): void {
  const sorted = [...all].sort((a, b) =>
    a.range.family !== b.range.family
      ? a.range.family < b.range.family
        ? -1
        : 1
      : a.range.first < b.range.first
        ? -1
        : a.range.first > b.range.first
          ? 1
          : 0,
  );
  const reported = new Set<PoolEntry>();
  let reach: PoolEntry | undefined;
  for (const entry of sorted) {
    if (reach && reach.range.family === entry.range.family && entry.range.first <= reach.range.last) {
      const [earlier, later] = comesFirst(reach, entry) ? [reach, entry] : [entry, reach];
      if (!reported.has(later)) {
        reported.add(later);
        const same = earlier.range.first === later.range.first && earlier.range.last === later.range.last;
        findings.error(
          "OverlappingAddresses",
          KIND,
          later.pool,
          `spec.addresses[${later.index}]`,
          later.text,
          `${same ? "duplicates" : "overlaps"} ${describeEntry(earlier, later.pool)}`,
        );
      }
    }
    if (!reach || reach.range.family !== entry.range.family || entry.range.last > reach.range.last)
      reach = entry;
  }
}

/** Parses every pool into the allocator's PoolSpec and reports bad or overlapping addresses. */
export function buildPools(
  objects: readonly CheckedObject<IPAddressPoolSpec>[],
  findings: Findings,
): BuiltPools {
  const pools: PoolSpec[] = [];
  const labels = new Map<string, Labels>();
  const entries = new Map<string, PoolEntry[]>();
  const all: PoolEntry[] = [];
  for (const obj of [...objects].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const own: PoolEntry[] = [];
    obj.spec.addresses.forEach((text, index) => {
      try {
        own.push({ pool: obj.name, index, text, range: parseAddressRange(text, true) });
      } catch (err) {
        if (!(err instanceof IPParseError)) throw err;
        findings.error("InvalidAddress", KIND, obj.name, `spec.addresses[${index}]`, text, err.reason);
      }
    });
    all.push(...own);
    entries.set(obj.name, own);
    labels.set(obj.name, obj.labels);
    const serviceAllocation = buildServiceAllocation(obj, findings);
    const pool: PoolSpec = {
      name: obj.name,
      ranges: own.map((e) => e.range),
      autoAssign: obj.spec.autoAssign ?? POOL_DEFAULTS.autoAssign,
      avoidBuggyIPs: obj.spec.avoidBuggyIPs ?? POOL_DEFAULTS.avoidBuggyIPs,
      ...(serviceAllocation ? { serviceAllocation } : {}),
    };
    pools.push(pool);
  }
  checkOverlaps(all, findings);
  return { pools, labels, entries };
}
