import { describe, expect, it } from "vitest";
import type { PoolSpec, ServiceRequest } from "../../../src/ipam/index.js";
import { allocatorWith, expectResult, mustAllocate, pool, svc, type Expectation } from "./fixtures.js";

const dual = (name: string, v4: string, v6: string): PoolSpec => pool(name, [v4, v6]);
const require46 = { ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" } as const;
const prefer46 = { ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "PreferDualStack" } as const;
const prefer64 = { ipFamilies: ["IPv6", "IPv4"], ipFamilyPolicy: "PreferDualStack" } as const;

interface Case {
  description: string;
  pools: PoolSpec[];
  before?: ServiceRequest[];
  service: ServiceRequest;
  expected: Expectation;
}

describe("IP families", () => {
  const cases: Case[] = [
    {
      description: "single stack follows ipFamilies[0] (IPv6)",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", { ipFamilies: ["IPv6"] }),
      expected: { ips: ["2001:db8:1::"], pool: "d" },
    },
    {
      description: "SingleStack with two ipFamilies takes only the first",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", { ipFamilies: ["IPv6", "IPv4"], ipFamilyPolicy: "SingleStack" }),
      expected: { ips: ["2001:db8:1::"], pool: "d" },
    },
    {
      description: "RequireDualStack takes one address of each family from one pool",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", require46),
      expected: { ips: ["192.0.2.0", "2001:db8:1::"], pool: "d" },
    },
    {
      description: "RequireDualStack skips single-family pools that come first",
      pools: [pool("a-v4", ["198.51.100.0/30"]), dual("z-dual", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", require46),
      expected: { ips: ["192.0.2.0", "2001:db8:1::"], pool: "z-dual" },
    },
    {
      description: "RequireDualStack never combines two pools",
      pools: [pool("v4", ["198.51.100.0/30"]), pool("v6", ["2001:db8:1::/126"])],
      service: svc("s", require46),
      expected: {
        code: "FamilyNotAvailable",
        fields: { families: ["IPv4", "IPv6"], together: true, pool: undefined },
      },
    },
    {
      description: "RequireDualStack with the IPv6 half exhausted",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/128")],
      before: [svc("x", { ipFamilies: ["IPv6"] })],
      service: svc("s", require46),
      expected: { code: "PoolExhausted", fields: { pools: ["d"], together: true } },
    },
    {
      description: "RequireDualStack from a requested pool that lacks IPv6",
      pools: [pool("v4", ["198.51.100.0/30"])],
      service: svc("s", { ...require46, requestedPool: "v4" }),
      expected: { code: "FamilyNotAvailable", fields: { families: ["IPv6"], pool: "v4" } },
    },
    {
      description: "RequireDualStack from a requested pool whose IPv6 half is full names that half",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/128")],
      before: [svc("x", { ipFamilies: ["IPv6"] })],
      service: svc("s", { ...require46, requestedPool: "d" }),
      expected: { code: "PoolExhausted", fields: { families: ["IPv6"], pools: ["d"] } },
    },
    {
      description: "RequireDualStack with a single family listed is invalid",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", { ipFamilies: ["IPv4"], ipFamilyPolicy: "RequireDualStack" }),
      expected: { code: "InvalidIPFamilies", fields: { policy: "RequireDualStack" } },
    },
    {
      description: "a repeated family is invalid",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", { ipFamilies: ["IPv4", "IPv4"], ipFamilyPolicy: "PreferDualStack" }),
      expected: { code: "InvalidIPFamilies" },
    },
    {
      description: "no ipFamilies is invalid",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", { ipFamilies: [] }),
      expected: { code: "InvalidIPFamilies" },
    },
    {
      description: "PreferDualStack takes both from a dual-stack pool",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", prefer46),
      expected: { ips: ["192.0.2.0", "2001:db8:1::"], pool: "d" },
    },
    {
      description: "PreferDualStack orders addresses by ipFamilies",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", prefer64),
      expected: { ips: ["2001:db8:1::", "192.0.2.0"], pool: "d" },
    },
    {
      description: "PreferDualStack prefers a later dual-stack pool over an earlier single-family one",
      pools: [pool("a-v4", ["198.51.100.0/30"]), dual("z-dual", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", prefer46),
      expected: { ips: ["192.0.2.0", "2001:db8:1::"], pool: "z-dual" },
    },
    {
      description: "PreferDualStack takes the primary family alone when no pool has both",
      pools: [pool("v6", ["2001:db8:1::/126"]), pool("v4", ["198.51.100.0/30"])],
      service: svc("s", prefer46),
      expected: { ips: ["198.51.100.0"], pool: "v4" },
    },
    {
      description: "PreferDualStack takes the secondary family when the primary is unavailable",
      pools: [pool("v6", ["2001:db8:1::/126"])],
      service: svc("s", prefer46),
      expected: { ips: ["2001:db8:1::"], pool: "v6" },
    },
    {
      description: "PreferDualStack with one family listed behaves as single stack",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", { ipFamilies: ["IPv4"], ipFamilyPolicy: "PreferDualStack" }),
      expected: { ips: ["192.0.2.0"], pool: "d" },
    },
    {
      description: "PreferDualStack and nothing of either family",
      pools: [],
      service: svc("s", prefer46),
      expected: { code: "NoPoolMatches" },
    },
    {
      description: "PreferDualStack and a requested pool with only one family",
      pools: [pool("v4", ["198.51.100.0/30"])],
      service: svc("s", { ...prefer46, requestedPool: "v4" }),
      expected: { ips: ["198.51.100.0"], pool: "v4" },
    },
    {
      description: "requested dual-stack pair from one pool",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", { ...require46, requestedIPs: ["2001:db8:1::2", "192.0.2.3"] }),
      expected: { ips: ["192.0.2.3", "2001:db8:1::2"], pool: "d" },
    },
    {
      description: "requested pair from two pools",
      pools: [pool("v4", ["198.51.100.0/30"]), pool("v6", ["2001:db8:1::/126"])],
      service: svc("s", { ...require46, requestedIPs: ["198.51.100.1", "2001:db8:1::1"] }),
      expected: { code: "RequestedIPsInDifferentPools", fields: { pools: ["v4", "v6"] } },
    },
    {
      description: "RequireDualStack with one requested address",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", { ...require46, requestedIPs: ["192.0.2.1"] }),
      expected: { code: "RequestedIPsFamilyMismatch", fields: { policy: "RequireDualStack" } },
    },
    {
      description: "two requested addresses of one family",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", { ...prefer46, requestedIPs: ["192.0.2.1", "192.0.2.2"] }),
      expected: { code: "RequestedIPsFamilyMismatch" },
    },
    {
      description: "PreferDualStack may request one address",
      pools: [dual("d", "192.0.2.0/30", "2001:db8:1::/126")],
      service: svc("s", { ...prefer46, requestedIPs: ["2001:db8:1::3"] }),
      expected: { ips: ["2001:db8:1::3"], pool: "d" },
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const a = allocatorWith(c.pools);
      for (const b of c.before ?? []) mustAllocate(a, b);
      expectResult(a.allocate(c.service), c.expected);
    });
  }

  it("PreferDualStack gains its missing family once the pool has room", () => {
    const a = allocatorWith([dual("d", "192.0.2.0/30", "2001:db8:1::/128")]);
    mustAllocate(a, svc("x", { ipFamilies: ["IPv6"] }));
    expect(mustAllocate(a, svc("s", prefer46))).toEqual(["192.0.2.0"]);
    a.release("default/x");
    expect(a.allocate(svc("s", prefer46))).toMatchObject({
      ok: true,
      ips: ["192.0.2.0", "2001:db8:1::"],
      changed: true,
    });
  });

  it("a Service turned single-stack keeps its primary address and frees the other", () => {
    const a = allocatorWith([dual("d", "192.0.2.0/30", "2001:db8:1::/126")]);
    mustAllocate(a, svc("s", prefer46));
    expect(
      a.allocate(svc("s", { ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "SingleStack" })),
    ).toMatchObject({
      ok: true,
      ips: ["192.0.2.0"],
      changed: true,
    });
    expect(a.poolStats("d")?.assignedIPv6).toBe(0n);
  });
});
