import { expect } from "vitest";
import type { LabelSelector } from "../../../src/api/labelSelector.js";
import {
  Allocator,
  type AllocateResult,
  type AllocationFailure,
  type AllocationFailureCode,
  type PoolSpec,
  type ServiceAllocation,
  type ServiceRequest,
} from "../../../src/ipam/index.js";
import { parseAddressRange } from "../../../src/net/ip.js";

export interface PoolOptions {
  autoAssign?: boolean;
  avoidBuggyIPs?: boolean;
  priority?: number;
  namespaces?: string[];
  namespaceSelectors?: LabelSelector[];
  serviceSelectors?: LabelSelector[];
}

/** A pool from address texts; any serviceAllocation option gives it a serviceAllocation. */
export function pool(name: string, addresses: readonly string[], o: PoolOptions = {}): PoolSpec {
  const sa: ServiceAllocation = {
    ...(o.priority !== undefined && { priority: o.priority }),
    ...(o.namespaces !== undefined && { namespaces: o.namespaces }),
    ...(o.namespaceSelectors !== undefined && { namespaceSelectors: o.namespaceSelectors }),
    ...(o.serviceSelectors !== undefined && { serviceSelectors: o.serviceSelectors }),
  };
  return {
    name,
    ranges: addresses.map((a) => parseAddressRange(a)),
    autoAssign: o.autoAssign ?? true,
    avoidBuggyIPs: o.avoidBuggyIPs ?? false,
    ...(Object.keys(sa).length > 0 && { serviceAllocation: sa }),
  };
}

/** A Service request; `name` may be "namespace/name" (default namespace "default"). */
export function svc(name: string, o: Partial<ServiceRequest> = {}): ServiceRequest {
  const [ns, n] = name.includes("/") ? (name.split("/") as [string, string]) : ["default", name];
  return {
    namespace: ns,
    name: n,
    labels: {},
    namespaceLabels: {},
    ipFamilies: ["IPv4"],
    ipFamilyPolicy: "SingleStack",
    requestedIPs: [],
    ports: [{ protocol: "TCP", port: 80 }],
    backendKey: "cluster",
    ...o,
  };
}

export function allocatorWith(pools: readonly PoolSpec[]): Allocator {
  const a = new Allocator();
  expect(a.setPools(pools)).toEqual([]);
  return a;
}

/** Asserts success and returns the addresses. */
export function mustAllocate(a: Allocator, s: ServiceRequest): readonly string[] {
  const r = a.allocate(s);
  if (!r.ok) throw new Error(`allocation of ${s.namespace}/${s.name} failed: ${r.reason.message}`);
  return r.ips;
}

/** Asserts failure and returns the reason. */
export function mustFail(
  r: AllocateResult | { ok: false; reason: AllocationFailure } | { ok: true },
): AllocationFailure {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r.reason;
}

/** What a table case expects: addresses and pool, or a failure code with some of its fields. */
export type Expectation =
  { ips: string[]; pool: string } | { code: AllocationFailureCode; fields?: Record<string, unknown> };

export function expectResult(r: AllocateResult | { ok: boolean }, expected: Expectation): void {
  if ("code" in expected) {
    const reason = mustFail(r as AllocateResult);
    expect(reason.code, reason.message).toBe(expected.code);
    if (expected.fields) expect(reason).toMatchObject(expected.fields);
    expect(reason.message.length).toBeGreaterThan(10);
  } else {
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, ips: expected.ips, pool: expected.pool });
  }
}
